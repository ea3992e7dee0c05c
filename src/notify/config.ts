// The notifications configuration: the YAML in the ConfigMap tailor-notifications (key config.yaml)
// read into receivers, routes and thresholds, purely. Every URL and routing key is a reference to a
// Secret in the operator's own namespace, never a value here: a URL written in the ConfigMap is
// refused. Anything wrong is refused whole, with the key path and what to write: notifications
// stay off rather than guess.
import { parse } from 'yaml';
import { parseDuration } from '../api/common.ts';
import { TailorError } from '../errors.ts';
import { DEFAULT_ALERT_SETTINGS, type AlertSettings } from './alerts.ts';
import { DEFAULT_DISPATCH, type DispatcherSettings, type Route } from './dispatcher.ts';
import { ALERT_KINDS, type AlertKind } from './types.ts';

export const CONFIG_KEY = 'config.yaml';

/** A key of a Secret in the operator's namespace. */
export interface SecretRef {
  readonly secret: string;
  readonly key: string;
}

export type ReceiverConfig =
  | { readonly name: string; readonly type: 'slack'; readonly url: SecretRef }
  | {
      readonly name: string;
      readonly type: 'pagerduty';
      readonly routingKey: SecretRef;
      readonly url?: SecretRef;
    }
  | { readonly name: string; readonly type: 'webhook'; readonly url: SecretRef };

export interface NotifyConfig {
  readonly receivers: readonly ReceiverConfig[];
  readonly routes: readonly Route[];
  readonly alerts: AlertSettings;
  readonly dispatch: DispatcherSettings;
  /** How often the savings digest goes out; 0: never. Weekly by default. */
  readonly digestEverySeconds: number;
  /** Per request to a receiver. */
  readonly timeoutMs: number;
  /** PagerDuty's payload.source: the cluster's name. */
  readonly clusterName: string;
  /** Alertmanager's externalURL and each alert's generatorURL: e.g. the operator's /ui. */
  readonly externalURL: string;
}

const TOP_KEYS = [
  'receivers',
  'routes',
  'repeatInterval',
  'oomLoop',
  'resizeInfeasibleFor',
  'evictionHeldFor',
  'historyFailingFor',
  'digestEvery',
  'rateLimit',
  'timeout',
  'clusterName',
  'externalURL',
] as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** Reads config.yaml; throws TailorError InvalidInput naming the key (`routes[1].receivers[0]`) and the fix. */
export function parseNotifyConfig(text: string, where: string): NotifyConfig {
  const bad = (path: string, problem: string, hint?: string): never => {
    throw new TailorError('InvalidInput', `${where}: ${path}: ${problem}`, hint ? { hint } : {});
  };
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return bad(CONFIG_KEY, `not YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const top = object(doc, CONFIG_KEY, bad);
  closed(top, TOP_KEYS, '', bad);

  const rawReceivers = top.receivers;
  if (!Array.isArray(rawReceivers) || rawReceivers.length === 0)
    bad(
      'receivers',
      'must be a list of at least one receiver',
      'e.g. receivers: [{name: ops, slack: {url: {secret: tailor-notifications, key: slack-url}}}]',
    );
  const receivers: ReceiverConfig[] = (rawReceivers as unknown[]).map((r, i) =>
    receiver(r, `receivers[${i}]`, bad),
  );
  const names = new Set<string>();
  receivers.forEach((r, i) => {
    if (names.has(r.name))
      bad(`receivers[${i}].name`, `"${r.name}" is used twice`, 'give each receiver its own name');
    names.add(r.name);
  });

  const rawRoutes = top.routes;
  if (!Array.isArray(rawRoutes) || rawRoutes.length === 0)
    bad(
      'routes',
      'must be a list of at least one route',
      'e.g. routes: [{alerts: [OOMLoop], receivers: [ops]}]',
    );
  const routes = (rawRoutes as unknown[]).map((r, i) => route(r, `routes[${i}]`, receivers, bad));

  const dur = (key: string, v: unknown, fallbackMs: number, min = 0): number => {
    if (v === undefined) return fallbackMs;
    const ms = typeof v === 'string' ? parseDuration(v) : undefined;
    if (ms === undefined || ms < min)
      bad(
        key,
        `${JSON.stringify(v)} is not a duration${min > 0 ? ` of at least ${min / 1000}s` : ''}`,
        'write it as 30s, 10m, 4h or 168h',
      );
    return ms!;
  };
  const oom = top.oomLoop === undefined ? {} : object(top.oomLoop, 'oomLoop', bad);
  closed(oom, ['kills', 'within'], 'oomLoop.', bad);
  if (oom.kills !== undefined && !(Number.isInteger(oom.kills) && (oom.kills as number) >= 2))
    bad('oomLoop.kills', `${JSON.stringify(oom.kills)} is not a whole number of at least 2`, 'e.g. kills: 3');
  const rate = top.rateLimit === undefined ? {} : object(top.rateLimit, 'rateLimit', bad);
  closed(rate, ['perMinute', 'burst'], 'rateLimit.', bad);
  for (const k of ['perMinute', 'burst'] as const)
    if (rate[k] !== undefined && !(typeof rate[k] === 'number' && rate[k] > 0 && Number.isFinite(rate[k])))
      bad(
        `rateLimit.${k}`,
        `${JSON.stringify(rate[k])} is not a positive number`,
        'e.g. rateLimit: {perMinute: 30, burst: 10}',
      );
  const clusterName = top.clusterName ?? 'kubernetes';
  if (typeof clusterName !== 'string' || clusterName.length === 0 || clusterName.length > 255)
    bad('clusterName', 'must be a name of 1 to 255 characters', 'e.g. clusterName: prod-eu-1');
  const externalURL = top.externalURL ?? '';
  if (typeof externalURL !== 'string' || (externalURL !== '' && !isHttpUrl(externalURL)))
    bad(
      'externalURL',
      'must be an http(s) URL (it is shown to whoever reads the notification)',
      'e.g. externalURL: https://tailor.example.com/ui',
    );

  return {
    receivers,
    routes,
    alerts: {
      oomLoop: {
        kills: (oom.kills as number | undefined) ?? DEFAULT_ALERT_SETTINGS.oomLoop.kills,
        withinSeconds:
          dur('oomLoop.within', oom.within, DEFAULT_ALERT_SETTINGS.oomLoop.withinSeconds * 1000, 1000) / 1000,
      },
      resizeInfeasibleForSeconds:
        dur(
          'resizeInfeasibleFor',
          top.resizeInfeasibleFor,
          DEFAULT_ALERT_SETTINGS.resizeInfeasibleForSeconds * 1000,
        ) / 1000,
      evictionHeldForSeconds:
        dur('evictionHeldFor', top.evictionHeldFor, DEFAULT_ALERT_SETTINGS.evictionHeldForSeconds * 1000) /
        1000,
      historyFailingForSeconds:
        dur(
          'historyFailingFor',
          top.historyFailingFor,
          DEFAULT_ALERT_SETTINGS.historyFailingForSeconds * 1000,
        ) / 1000,
    },
    dispatch: {
      ...DEFAULT_DISPATCH,
      repeatIntervalMs: dur('repeatInterval', top.repeatInterval, DEFAULT_DISPATCH.repeatIntervalMs, 60_000),
      rate: {
        perMinute: (rate.perMinute as number | undefined) ?? DEFAULT_DISPATCH.rate.perMinute,
        burst: (rate.burst as number | undefined) ?? DEFAULT_DISPATCH.rate.burst,
      },
    },
    digestEverySeconds:
      top.digestEvery === '0' || top.digestEvery === 0
        ? 0
        : dur('digestEvery', top.digestEvery, 7 * 86_400_000, 60_000) / 1000,
    timeoutMs: dur('timeout', top.timeout, 10_000, 100),
    clusterName: clusterName as string,
    externalURL: externalURL as string,
  };
}

type Bad = (path: string, problem: string, hint?: string) => never;

function receiver(raw: unknown, path: string, bad: Bad): ReceiverConfig {
  const r = object(raw, path, bad);
  const types = ['slack', 'pagerduty', 'webhook'] as const;
  closed(r, ['name', ...types], `${path}.`, bad);
  const name = r.name;
  if (typeof name !== 'string' || !DNS_LABEL.test(name) || name.length > 63)
    bad(
      `${path}.name`,
      `${JSON.stringify(name)} is not a name`,
      'lower-case letters, digits and "-", e.g. ops-slack',
    );
  const given = types.filter((t) => r[t] !== undefined);
  if (given.length !== 1)
    bad(
      path,
      `names ${given.length === 0 ? 'no type' : given.join(' and ')}`,
      'give exactly one of slack, pagerduty or webhook',
    );
  const type = given[0]!;
  const body = object(r[type], `${path}.${type}`, bad);
  const p = `${path}.${type}`;
  switch (type) {
    case 'slack':
    case 'webhook':
      closed(body, ['url'], `${p}.`, bad);
      return { name: name, type, url: secretRef(body.url, `${p}.url`, bad) };
    case 'pagerduty':
      closed(body, ['routingKey', 'url'], `${p}.`, bad);
      return {
        name: name,
        type,
        routingKey: secretRef(body.routingKey, `${p}.routingKey`, bad),
        ...(body.url !== undefined ? { url: secretRef(body.url, `${p}.url`, bad) } : {}),
      };
  }
}

function secretRef(raw: unknown, path: string, bad: Bad): SecretRef {
  if (raw === undefined)
    bad(
      path,
      'is required',
      `write ${path.split('.').pop()}: {secret: NAME, key: KEY} (a Secret in the operator's namespace)`,
    );
  if (typeof raw === 'string')
    bad(
      path,
      "is written here; URLs and keys are read only from a Secret in the operator's namespace",
      `write ${path.split('.').pop()}: {secret: NAME, key: KEY} and put the value in that Secret`,
    );
  const o = object(raw, path, bad);
  closed(o, ['secret', 'key'], `${path}.`, bad);
  if (typeof o.secret !== 'string' || !SECRET_NAME.test(o.secret) || o.secret.length > 253)
    bad(
      `${path}.secret`,
      `${JSON.stringify(o.secret)} is not a Secret name`,
      'e.g. secret: tailor-notifications',
    );
  if (typeof o.key !== 'string' || !SECRET_KEY.test(o.key) || o.key.length > 253)
    bad(
      `${path}.key`,
      `${JSON.stringify(o.key)} is not a Secret key`,
      'letters, digits, "-", "_" and ".", e.g. key: slack-url',
    );
  return { secret: o.secret, key: o.key };
}

function route(raw: unknown, path: string, receivers: readonly ReceiverConfig[], bad: Bad): Route {
  const r = object(raw, path, bad);
  closed(r, ['alerts', 'receivers', 'namespaces'], `${path}.`, bad);
  if (!Array.isArray(r.alerts) || r.alerts.length === 0)
    bad(`${path}.alerts`, 'must list at least one alert', `among ${ALERT_KINDS.join(', ')}`);
  const alerts = (r.alerts as unknown[]).map((a, i) => {
    if (!ALERT_KINDS.includes(a as AlertKind))
      bad(`${path}.alerts[${i}]`, `${JSON.stringify(a)} is not an alert`, `one of ${ALERT_KINDS.join(', ')}`);
    return a as AlertKind;
  });
  if (!Array.isArray(r.receivers) || r.receivers.length === 0)
    bad(
      `${path}.receivers`,
      'must name at least one receiver',
      `among ${receivers.map((x) => x.name).join(', ')}`,
    );
  const names = (r.receivers as unknown[]).map((n, i) => {
    const found = receivers.find((x) => x.name === n);
    if (!found)
      bad(
        `${path}.receivers[${i}]`,
        `${JSON.stringify(n)} is not a receiver`,
        `one of ${receivers.map((x) => x.name).join(', ')}`,
      );
    // A digest is news, not an incident: it would open a PagerDuty incident nobody can resolve.
    if (found.type === 'pagerduty' && alerts.includes('SavingsDigest'))
      bad(
        `${path}.receivers[${i}]`,
        `"${found.name}" is a PagerDuty receiver, which pages someone`,
        'send SavingsDigest to a slack or webhook receiver in a route of its own',
      );
    return found.name;
  });
  let namespaces: string[] | undefined;
  if (r.namespaces !== undefined) {
    if (!Array.isArray(r.namespaces) || r.namespaces.some((n) => typeof n !== 'string' || !DNS_LABEL.test(n)))
      bad(`${path}.namespaces`, 'must be a list of namespace names', 'e.g. namespaces: [shop, acme]');
    namespaces = r.namespaces as string[];
  }
  return { alerts, receivers: names, ...(namespaces ? { namespaces } : {}) };
}

function object(v: unknown, path: string, bad: Bad): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return bad(path, 'must be a mapping (key: value)');
  return v as Record<string, unknown>;
}

function closed(o: Record<string, unknown>, allowed: readonly string[], prefix: string, bad: Bad): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) bad(`${prefix}${k}`, 'is not a known key', `known here: ${allowed.join(', ')}`);
}

export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}
