// The shapes notifications share: an alert (what is wrong, under a stable dedup key), a message (an
// alert firing or resolved, or the savings digest) and what a receiver answered.

/** What Tailor notifies about; the names are what a route's `alerts:` lists. */
export type AlertKind =
  | 'OOMLoop'
  | 'ResizeInfeasible'
  | 'EvictionHeld'
  | 'HistoryFailing'
  | 'SavingsDigest'
  | 'BudgetForecastOverCap';

export const ALERT_KINDS: readonly AlertKind[] = [
  'OOMLoop',
  'ResizeInfeasible',
  'EvictionHeld',
  'HistoryFailing',
  'SavingsDigest',
  'BudgetForecastOverCap',
];

/** PagerDuty's four severities (Events API v2 payload.severity); the others carry it as a label. */
export type Severity = 'critical' | 'error' | 'warning' | 'info';

export interface Alert {
  readonly kind: AlertKind;
  /**
   * Stable while the condition lasts, the same in trigger and resolve: PagerDuty's dedup_key,
   * Alertmanager's fingerprint source and the dispatcher's dedup key. At most 255 characters
   * (PagerDuty's limit).
   */
  readonly key: string;
  readonly severity: Severity;
  /** One line a human reads first (PagerDuty payload.summary: at most 1024 characters). */
  readonly summary: string;
  /** Identifying labels: namespace, policy, workload, container; `alertname` is added by receivers. */
  readonly labels: Readonly<Record<string, string>>;
  /** Facts beside the summary (counts, messages, figures). */
  readonly details: Readonly<Record<string, string | number>>;
  /** Seconds since the epoch when the condition began (Alertmanager startsAt). */
  readonly since: number;
}

/** One message to one receiver: an alert that fires (again, after the repeat interval) or resolved. */
export type Notification =
  | { readonly status: 'firing'; readonly alert: Alert }
  | { readonly status: 'resolved'; readonly alert: Alert; readonly endedAt: number };

/** How one delivery attempt ended; `retry` ones go round again with backoff. */
export type SendResult =
  | { readonly kind: 'Delivered' }
  | { readonly kind: 'Retry'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'Failed'; readonly reason: string };

/** The result label of tailor_notifications_total. */
export type DeliveryResult = 'delivered' | 'retried' | 'failed' | 'dropped' | 'deduplicated' | 'rate_limited';
