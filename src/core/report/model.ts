// The savings report as data: what `tailor report -o json` prints, what /ui shows, what the
// metrics export and the weekly digest sums. Built by one pure function from the cluster's objects
// and Tailor's own records; every renderer (table, csv, markdown, html, dashboard) reads only this.
import type { Amount, Figure } from '../cost/types.ts';
import type { PackingResult } from '../packing/types.ts';
import type { NodesRemoved } from '../packing/removed.ts';

/** Per month at the current rate (730.5 hours), or integrated over the report's range. */
export interface Figures {
  /** What the pods request now, per month. */
  readonly requested: Figure;
  /** What they used on average over the range, per month. */
  readonly used: Figure;
  /** What the current recommendations would request, per month. */
  readonly recommended: Figure;
  /** Saved by Tailor's applied changes, integrated over the range (negative: raises cost more). */
  readonly realised: Figure;
  /** What applying the current recommendations would save per month (requested - recommended). */
  readonly available: Figure;
}

export interface Amounts {
  readonly requested: Amount;
  readonly used: Amount;
  readonly recommended: Amount;
}

export interface ContainerReport {
  readonly name: string;
  readonly amounts: Amounts;
  readonly figures: Figures;
}

/**
 * One point of a workload's series: the sum over its pods and containers, averaged over the bucket
 * (5-minute buckets when the range is 48 h or less, hourly ones beyond; src/core/report/ledger.ts).
 */
export interface SeriesPoint {
  /** ISO 8601, the start of the bucket. */
  readonly t: string;
  readonly requested: Amount;
  readonly used: Amount;
  readonly recommended: Amount;
}

export interface WorkloadReport {
  readonly namespace: string;
  /** Deployment, StatefulSet, ... */
  readonly kind: string;
  readonly name: string;
  /** The SizingPolicy that covers it. */
  readonly policy: string;
  readonly mode: string;
  readonly replicas: number;
  readonly containers: readonly ContainerReport[];
  readonly figures: Figures;
  readonly oomKills: number;
  readonly resizes: number;
  readonly series: readonly SeriesPoint[];
  /** The SizingPolicy's status.lastApplied, when known: the workload page shows it (optional, additive). */
  readonly lastApplied?: { readonly time: string; readonly pods: number; readonly summary: string };
  /** Events Tailor emitted for its pods and policy over the range, newest first (optional, additive). */
  readonly events?: readonly ReportEvent[];
  /** Hours of Tailor's records in the range (0: used and realised are not known, a note says so). */
  readonly historyHours?: number;
  /** What its requests cost over the range, from Tailor's records (optional, additive; budgets read it). */
  readonly spent?: Figure;
}

/** One Kubernetes Event Tailor emitted (a resize, an OOM raise, an eviction held ...). */
export interface ReportEvent {
  /** ISO 8601. */
  readonly time: string;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  /** The object it was about, e.g. "Pod/web-7d9f-abcde". */
  readonly object?: string;
}

export interface NamespaceReport {
  readonly namespace: string;
  readonly figures: Figures;
  readonly oomKills: number;
  readonly resizes: number;
  /** What its requests cost over the range, from Tailor's records (optional, additive; budgets read it). */
  readonly spent?: Figure;
  readonly workloads: readonly WorkloadReport[];
}

/** A change worth making, ranked by its available saving. */
export interface Opportunity {
  readonly namespace: string;
  readonly workload: string;
  readonly container: string;
  readonly resource: 'cpu' | 'memory' | 'nvidia.com/gpu';
  readonly requested: number;
  readonly recommended: number;
  readonly saving: Figure;
}

export interface Report {
  /** ISO 8601. */
  readonly generatedAt: string;
  readonly since: string;
  readonly until: string;
  readonly currency: string;
  readonly cluster: { readonly figures: Figures; readonly oomKills: number; readonly resizes: number };
  readonly namespaces: readonly NamespaceReport[];
  readonly opportunities: readonly Opportunity[];
  /** Said rather than printed as zeros: "no history between ... and ...", prices that fell back, ... */
  readonly notes: readonly string[];
  /** Volume waste over the range, when a volume stats source was read (optional, additive). */
  readonly volumes?: VolumesReport;
  /**
   * The packing what-if (src/core/packing): nodes and GPUs the recommendations free per pool, or the
   * pods that fit nowhere and why. Present when every pod and PodDisruptionBudget could be read
   * (optional, additive).
   */
  readonly packing?: PackingResult;
  /** Nodes a scale-down removed over the range, priced per month: the packing's realised side (optional, additive). */
  readonly nodesRemoved?: NodesRemoved;
}

/** A claim that stayed under half full for the whole range (src/core/volume/waste.ts), priced. */
export interface WastedVolume {
  readonly namespace: string;
  readonly claim: string;
  /** null: the claim names none, or the class could not be read (priced at the default). */
  readonly storageClass: string | null;
  readonly capacityBytes: number;
  /** Most used over the range. */
  readonly peakUsedBytes: number;
  /** What a new volume would need: peak and a month's growth with 10% free, whole GiB. */
  readonly suggestedBytes: number;
  /** capacityBytes - suggestedBytes */
  readonly wasteBytes: number;
  /** What the claim's capacity costs per month (whole cents). */
  readonly monthlyCost: number;
  /** What the waste costs per month: saved by moving to a volume of suggestedBytes (whole cents). */
  readonly wasteMonthlyCost: number;
  readonly currency: string;
  /** Where the price per GiB-month came from: "aws gp3 $0.08/GiB-month (aws.amazon.com/ebs/pricing, ...)". */
  readonly price: string;
}

/** Wasted volumes summed per namespace (tenant), or over the whole report. */
export interface VolumeWasteTotal {
  readonly volumes: number;
  readonly capacityBytes: number;
  readonly wasteBytes: number;
  readonly monthlyCost: number;
  readonly wasteMonthlyCost: number;
}

export interface VolumesReport {
  /** The volume stats source read ('prometheus', 'kubelet'). */
  readonly source: string;
  /** The window every verdict covers (the report's range). */
  readonly windowSeconds: number;
  /** Claims with stats in scope, wasted or not. */
  readonly claims: number;
  /** Sorted by namespace, then by the waste's monthly cost (highest first). */
  readonly wasted: readonly WastedVolume[];
  readonly namespaces: readonly (VolumeWasteTotal & { readonly namespace: string })[];
  readonly total: VolumeWasteTotal;
  /** Claims without a verdict (short or gappy history), the source unread, prices that fell back. */
  readonly notes: readonly string[];
}

/** What a report covers: some namespaces (all when absent) over the last `sinceSeconds`. */
export interface ReportQuery {
  readonly namespaces?: readonly string[];
  readonly sinceSeconds: number;
}

/** Builds a report from the cluster and Tailor's records: the CLI, /ui, the metrics and the digest share one. */
export type ReportProvider = (q: ReportQuery) => Promise<Report>;
