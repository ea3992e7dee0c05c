// Which alerts are active now, purely: from what the operator knows (OOM kills it saw, pods the
// sizing controller could not resize or evict, the history store's health, the SizingPolicies'
// conditions) to a set of alerts with stable dedup keys. No I/O, no clock: `now` comes in.
import type { Report } from '../core/report/model.ts';
import type { Alert } from './types.ts';

/** Thresholds: how much and how long before a condition is worth waking someone. */
export interface AlertSettings {
  /** An OOM loop: at least `kills` OOM kills of one workload's container within `withinSeconds`. */
  readonly oomLoop: { readonly kills: number; readonly withinSeconds: number };
  /** A pod whose resize stays Infeasible or Deferred this long. */
  readonly resizeInfeasibleForSeconds: number;
  /** A pod whose eviction a PodDisruptionBudget holds this long. */
  readonly evictionHeldForSeconds: number;
  /** The usage history store failing this long. */
  readonly historyFailingForSeconds: number;
}

// Like the PrometheusRule alerts' `for:` (deploy/): long enough that a passing state is not a page.
export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  oomLoop: { kills: 3, withinSeconds: 3600 },
  resizeInfeasibleForSeconds: 1800,
  evictionHeldForSeconds: 3600,
  historyFailingForSeconds: 600,
};

/** One OOM kill the operator saw in a pod's status. */
export interface OomSeen {
  readonly namespace: string;
  /** "Deployment/web", or "Pod/name" for a bare pod. */
  readonly workload: string;
  readonly container: string;
  readonly pod: string;
  /** Seconds since the epoch. */
  readonly t: number;
}

/** Why the sizing controller could not change a pod as it planned. */
export type StuckKind = 'ResizeInfeasible' | 'ResizeDeferred' | 'EvictionHeld';

/** A pod the sizing controller reported stuck, and since when it has been (in consecutive passes). */
export interface StuckPod {
  /** namespace/name of the SizingPolicy. */
  readonly policy: string;
  readonly pod: string;
  readonly kind: StuckKind;
  /** Seconds since the epoch of the first pass that found it so, without a pass in between that did not. */
  readonly since: number;
  readonly message: string;
}

/** The part of a SizingPolicy the alerts read. */
export interface PolicyState {
  readonly namespace: string;
  readonly name: string;
  readonly conditions: readonly {
    readonly type: string;
    readonly status: string;
    readonly reason?: string;
    readonly message?: string;
    readonly lastTransitionTime?: string | Date;
  }[];
}

export type StoreHealth =
  | { readonly kind: 'Ok' }
  | { readonly kind: 'Failing'; readonly op: string; readonly error: string; readonly since: number };

export interface AlertInputs {
  /** Seconds since the epoch. */
  readonly now: number;
  readonly ooms: readonly OomSeen[];
  readonly stuck: readonly StuckPod[];
  /** The operator's own history store (HistoryGuard.health()). */
  readonly history: StoreHealth;
  readonly policies: readonly PolicyState[];
}

/** Every alert active now; the same condition gives the same key on every call. */
export function activeAlerts(inputs: AlertInputs, settings: AlertSettings = DEFAULT_ALERT_SETTINGS): Alert[] {
  return [
    ...oomLoops(inputs, settings),
    ...stuckAlerts(inputs, settings),
    ...historyFailing(inputs, settings),
  ].sort((a, b) => a.key.localeCompare(b.key));
}

function oomLoops(inputs: AlertInputs, s: AlertSettings): Alert[] {
  const from = inputs.now - s.oomLoop.withinSeconds;
  const groups = new Map<string, OomSeen[]>();
  for (const k of inputs.ooms) {
    if (k.t < from || k.t > inputs.now) continue;
    const key = `OOMLoop/${k.namespace}/${k.workload}/${k.container}`;
    groups.set(key, [...(groups.get(key) ?? []), k]);
  }
  const out: Alert[] = [];
  for (const [key, kills] of groups) {
    if (kills.length < s.oomLoop.kills) continue;
    const first = kills.reduce((a, b) => (a.t <= b.t ? a : b));
    const last = kills.reduce((a, b) => (a.t >= b.t ? a : b));
    const pods = [...new Set(kills.map((k) => k.pod))].sort();
    out.push({
      kind: 'OOMLoop',
      key: bounded(key),
      severity: 'critical',
      summary:
        `${first.namespace}/${first.workload} container ${first.container} was OOM-killed ` +
        `${kills.length} times in ${span(s.oomLoop.withinSeconds)}`,
      labels: { namespace: first.namespace, workload: first.workload, container: first.container },
      details: {
        kills: kills.length,
        window: span(s.oomLoop.withinSeconds),
        pods: pods.join(', '),
        lastKill: iso(last.t),
        hint: 'Tailor raises memory after each kill; a loop means a maxAllowed cap, a mode that does not apply (Off, Recommend, Initial), or a leak',
      },
      since: first.t,
    });
  }
  return out;
}

function stuckAlerts(inputs: AlertInputs, s: AlertSettings): Alert[] {
  const groups = new Map<string, { kind: 'ResizeInfeasible' | 'EvictionHeld'; pods: StuckPod[] }>();
  for (const p of inputs.stuck) {
    const kind = p.kind === 'EvictionHeld' ? 'EvictionHeld' : 'ResizeInfeasible';
    const threshold = kind === 'EvictionHeld' ? s.evictionHeldForSeconds : s.resizeInfeasibleForSeconds;
    if (inputs.now - p.since < threshold) continue;
    const key = `${kind}/${p.policy}`;
    const g = groups.get(key) ?? { kind, pods: [] };
    g.pods.push(p);
    groups.set(key, g);
  }
  const out: Alert[] = [];
  for (const [key, { kind, pods }] of groups) {
    pods.sort((a, b) => a.since - b.since || a.pod.localeCompare(b.pod));
    const oldest = pods[0]!;
    const [namespace = '', policy = ''] = oldest.policy.split('/');
    const names = pods.map((p) => p.pod);
    const what =
      kind === 'EvictionHeld'
        ? `eviction held by a PodDisruptionBudget for ${span(inputs.now - oldest.since)}`
        : `resize ${oldest.kind === 'ResizeDeferred' ? 'deferred' : 'infeasible'} for ${span(inputs.now - oldest.since)}`;
    out.push({
      kind,
      key: bounded(key),
      severity: kind === 'EvictionHeld' ? 'warning' : 'error',
      summary: `SizingPolicy ${oldest.policy}: ${names.length} pod${names.length === 1 ? '' : 's'} ${what}`,
      labels: { namespace, policy },
      details: {
        pods: names.join(', '),
        since: iso(oldest.since),
        message: oldest.message.slice(0, 1024),
      },
      since: oldest.since,
    });
  }
  return out;
}

/** One cluster-wide alert: the operator's own store (or, without it, a policy's HistoryUnavailable condition). */
function historyFailing(inputs: AlertInputs, s: AlertSettings): Alert[] {
  const seen: { since: number; what: string }[] = [];
  if (inputs.history.kind === 'Failing')
    seen.push({ since: inputs.history.since, what: `${inputs.history.op}: ${inputs.history.error}` });
  for (const p of inputs.policies) {
    const ready = p.conditions.find((c) => c.type === 'Ready');
    if (ready?.status !== 'False' || ready.reason !== 'HistoryUnavailable') continue;
    const t = ready.lastTransitionTime ? new Date(ready.lastTransitionTime).getTime() / 1000 : NaN;
    if (Number.isFinite(t)) seen.push({ since: t, what: ready.message ?? 'HistoryUnavailable' });
  }
  if (seen.length === 0) return [];
  const first = seen.reduce((a, b) => (a.since <= b.since ? a : b));
  if (inputs.now - first.since < s.historyFailingForSeconds) return [];
  return [
    {
      kind: 'HistoryFailing',
      key: 'HistoryFailing',
      severity: 'critical',
      summary: `Tailor's usage history store has failed for ${span(inputs.now - first.since)}: shrinks are held`,
      labels: {},
      details: {
        error: first.what.slice(0, 1024),
        since: iso(first.since),
        effect: 'nothing is lowered until it works again; OOM raises still go out',
      },
      since: first.since,
    },
  ];
}

/**
 * The weekly digest from a Report: realised and available savings in money and CO2e, the top
 * opportunities. Its key names the week, so each digest is its own message, sent once.
 */
export function digestAlert(report: Report, now: number): Alert {
  const c = report.cluster.figures;
  const money = (v: number) => `${v.toFixed(2)} ${report.currency}`;
  const kg = (v: number) => `${v.toFixed(1)} kg CO2e`;
  const top = report.opportunities
    .slice(0, 3)
    .map((o) => `${o.namespace}/${o.workload} ${o.container} ${o.resource}: ${money(o.saving.cost)}/month`);
  const spaces = [...report.namespaces]
    .sort((a, b) => b.figures.realised.cost - a.figures.realised.cost)
    .slice(0, 5)
    .map((n) => `${n.namespace}: ${money(n.figures.realised.cost)}, ${kg(n.figures.realised.co2eKg)}`);
  return {
    kind: 'SavingsDigest',
    key: `SavingsDigest/${report.since}/${report.until}`,
    severity: 'info',
    summary:
      `Tailor saved ${money(c.realised.cost)} and ${kg(c.realised.co2eKg)} from ${day(report.since)} to ` +
      `${day(report.until)}; ${money(c.available.cost)}/month more is available`,
    labels: {},
    details: {
      realised: money(c.realised.cost),
      realisedCo2e: kg(c.realised.co2eKg),
      availablePerMonth: money(c.available.cost),
      availableCo2ePerMonth: kg(c.available.co2eKg),
      requestedPerMonth: money(c.requested.cost),
      oomKills: report.cluster.oomKills,
      resizes: report.cluster.resizes,
      ...(spaces.length > 0 ? { byNamespace: spaces.join('; ') } : {}),
      ...(top.length > 0 ? { topOpportunities: top.join('; ') } : {}),
      ...(report.notes.length > 0 ? { notes: report.notes.join('; ').slice(0, 1024) } : {}),
    },
    since: now,
  };
}

/** PagerDuty takes dedup keys up to 255 characters. */
function bounded(key: string): string {
  return key.length <= 255 ? key : key.slice(0, 255);
}

export function span(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s % 86_400 === 0 && s >= 86_400) return `${s / 86_400}d`;
  if (s >= 3600)
    return s % 3600 === 0 ? `${s / 3600}h` : `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60)}m`;
  if (s >= 60) return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m${s % 60}s`;
  return `${s}s`;
}

export function iso(t: number): string {
  return new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function day(isoTime: string): string {
  return isoTime.slice(0, 10);
}
