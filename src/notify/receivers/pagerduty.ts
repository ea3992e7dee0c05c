// PagerDuty Events API v2: an alert event per notification, POSTed to
// https://events.pagerduty.com/v2/enqueue (the EU service: events.eu.pagerduty.com; the URL can be
// replaced through the Secret). Shape per PagerDuty's "Send an Alert Event" docs
// (https://developer.pagerduty.com/docs/events-API-v2/trigger-events/ and
// .../resolve-events/): a trigger carries routing_key, event_action "trigger", dedup_key (at most
// 255 characters) and payload {summary (at most 1024), source, severity critical|error|warning|info,
// timestamp, component, group, class, custom_details}; a resolve carries routing_key, event_action
// "resolve" and the same dedup_key, which closes the alert the trigger opened. PagerDuty answers
// 202; 429 and 5xx are retried (its docs ask for retries with backoff).
import type { Notification } from '../types.ts';
import { postJson, type Fetch } from './http.ts';
import type { Receiver } from './receiver.ts';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

export type PagerDutyEvent =
  | {
      readonly routing_key: string;
      readonly event_action: 'trigger';
      readonly dedup_key: string;
      readonly payload: {
        readonly summary: string;
        readonly source: string;
        readonly severity: 'critical' | 'error' | 'warning' | 'info';
        readonly timestamp: string;
        readonly component: string;
        readonly group: string;
        readonly class: string;
        readonly custom_details: Readonly<Record<string, string | number>>;
      };
    }
  | { readonly routing_key: string; readonly event_action: 'resolve'; readonly dedup_key: string };

export function pagerDutyEvent(n: Notification, routingKey: string, source: string): PagerDutyEvent {
  const a = n.alert;
  if (n.status === 'resolved') return { routing_key: routingKey, event_action: 'resolve', dedup_key: a.key };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: a.key,
    payload: {
      summary: a.summary.length <= 1024 ? a.summary : `${a.summary.slice(0, 1023)}…`,
      source,
      severity: a.severity,
      timestamp: new Date(a.since * 1000).toISOString(),
      component: a.labels.workload ?? a.labels.policy ?? 'tailor-operator',
      group: a.labels.namespace ?? 'cluster',
      class: a.kind,
      custom_details: { ...a.labels, ...a.details },
    },
  };
}

export function pagerDutyReceiver(
  name: string,
  routingKey: string,
  o: { url?: string; source: string; timeoutMs: number; fetch?: Fetch },
): Receiver {
  const url = o.url ?? PAGERDUTY_EVENTS_URL;
  return {
    name,
    type: 'pagerduty',
    send: (n) => postJson(url, pagerDutyEvent(n, routingKey, o.source), o),
  };
}
