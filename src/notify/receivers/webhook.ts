// A generic webhook in Alertmanager's webhook payload format (version "4"), as Alertmanager's
// configuration docs give it (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config),
// so anything that takes Alertmanager's webhooks takes Tailor's: one group per notification, holding
// the one alert, with status firing or resolved, startsAt, endsAt (Go's zero time while firing, as
// Alertmanager sends it), generatorURL and a fingerprint stable for the alert's key.
import { createHash } from 'node:crypto';
import type { Notification } from '../types.ts';
import { postJson, type Fetch } from './http.ts';
import type { Receiver } from './receiver.ts';

/** What Alertmanager sends for a firing alert's endsAt when it has no end (Go's zero time). */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface AlertmanagerAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

export interface AlertmanagerPayload {
  readonly version: '4';
  readonly groupKey: string;
  readonly truncatedAlerts: number;
  readonly status: 'firing' | 'resolved';
  readonly receiver: string;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly alerts: readonly AlertmanagerAlert[];
}

export function alertmanagerPayload(
  n: Notification,
  receiver: string,
  externalURL: string,
): AlertmanagerPayload {
  const a = n.alert;
  const labels: Record<string, string> = {
    alertname: `Tailor${a.kind}`,
    severity: a.severity,
    ...a.labels,
  };
  const annotations: Record<string, string> = {
    summary: a.summary,
    ...Object.fromEntries(Object.entries(a.details).map(([k, v]) => [k, String(v)])),
    dedup_key: a.key,
  };
  const groupLabels = { alertname: labels.alertname! };
  const alert: AlertmanagerAlert = {
    status: n.status,
    labels,
    annotations,
    startsAt: new Date(a.since * 1000).toISOString(),
    endsAt: n.status === 'resolved' ? new Date(n.endedAt * 1000).toISOString() : ZERO_TIME,
    generatorURL: externalURL,
    fingerprint: fingerprint(a.key),
  };
  return {
    version: '4',
    // Alertmanager's form: the route's matchers, then the group's labels; one group per alert key.
    groupKey: `{}:{alertname="${labels.alertname}", key="${a.key}"}`,
    truncatedAlerts: 0,
    status: n.status,
    receiver,
    groupLabels,
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL,
    alerts: [alert],
  };
}

/** 16 hex digits, as Alertmanager's label-set fingerprints are, from the dedup key. */
export function fingerprint(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export function webhookReceiver(
  name: string,
  url: string,
  o: { externalURL: string; timeoutMs: number; fetch?: Fetch },
): Receiver {
  return {
    name,
    type: 'webhook',
    send: (n) => postJson(url, alertmanagerPayload(n, name, o.externalURL), o),
  };
}
