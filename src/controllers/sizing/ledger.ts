// The sizing pass's savings records: per policy, what each covered pod's containers hold now, held
// before Tailor (the baseline), use and are recommended, OOM kills and Tailor's resizes, added to
// the policy's ledger (src/core/report/ledger.ts), which the SizingCheckpoint persists.
import type * as k8s from '@kubernetes/client-node';
import { BEFORE_ANNOTATION } from '../../webhook/admit.ts';
import { requestsOf } from '../../core/report/amounts.ts';
import {
  decodeLedger,
  encodeLedger,
  EMPTY_LEDGER,
  ledgerKey,
  record,
  sharedLabels,
  type ContainerSample,
  type Ledger,
  type LedgerAmount,
} from '../../core/report/ledger.ts';
import type { Amount } from '../../core/cost/types.ts';
import type { SeriesKey } from '../../sources/history.ts';
import type { LatestSample } from '../../operator/usage-collector.ts';
import type { LedgerPersistence } from './checkpoint.ts';
import type { PodChanges } from './pod-changes.ts';
import type { CoveredPod } from './recommendations.ts';
import type { SeriesView } from './usage.ts';
import { oomKills } from './oom.ts';

export interface LedgerPass {
  readonly now: number;
  readonly covered: readonly CoveredPod[];
  /** The target's pod template (a selector policy has none). */
  readonly template: k8s.V1PodTemplateSpec | undefined;
  readonly seriesOf: (key: SeriesKey) => SeriesView;
  /** Whether the recommendations of this pass count (the history the policy asked for is read). */
  readonly recommendationsReady: boolean;
  readonly latestOf: (pod: k8s.V1Pod) => ReadonlyMap<string, LatestSample> | undefined;
  /** A usage sample older than this is not the pod's usage now. */
  readonly freshSeconds: number;
}

export interface SizingLedgers extends LedgerPersistence {
  /** Adds this pass's sample to the policy's ledger. */
  record(policyKey: string, pass: LedgerPass): void;
  get(policyKey: string): Ledger;
  forget(policyKey: string): void;
}

export function sizingLedgers(changes: PodChanges): SizingLedgers {
  const ledgers = new Map<string, Ledger>();
  /** Per policy, a pod's requests when first seen, per uid and container: the baseline when nothing else says. */
  const firstSeenOf = new Map<string, Map<string, Map<string, Amount>>>();

  return {
    record(policyKey, pass) {
      const ledger = ledgers.get(policyKey) ?? EMPTY_LEDGER;
      let firstSeen = firstSeenOf.get(policyKey);
      if (!firstSeen) firstSeenOf.set(policyKey, (firstSeen = new Map<string, Map<string, Amount>>()));
      const through = new Map(ledger.containers.map((c) => [ledgerKey(c.workload, c.container), c.through]));
      type Mutable = { -readonly [K in keyof ContainerSample]: ContainerSample[K] } & {
        pods: ContainerSample['pods'][number][];
      };
      const samples = new Map<string, Mutable>();
      /** Per ledger key, the labels of its pods (what `tailor report -l` selects the records by). */
      const labelsOf = new Map<string, (Readonly<Record<string, string>> | undefined)[]>();
      const live = new Set<string>();
      for (const c of pass.covered) {
        if (c.skip === 'OverlappingPolicy') continue;
        const pod = c.pod;
        const uid = pod.metadata?.uid ?? '';
        live.add(uid);
        const workload = { kind: c.workload.kind, name: c.workload.name };
        const latest = pass.latestOf(pod);
        const before = beforeAnnotation(pod);
        for (const ct of pod.spec?.containers ?? []) {
          const key = ledgerKey(workload, ct.name);
          const since = through.get(key);
          let s = samples.get(key);
          if (!s) samples.set(key, (s = { workload, container: ct.name, pods: [], oomKills: 0, resizes: 0 }));
          labelsOf.set(key, [...(labelsOf.get(key) ?? []), pod.metadata?.labels]);
          // What the kubelet says the container holds (after an in-place resize), else the spec's.
          const requested = requestsOf({
            requests: { ...ct.resources?.limits, ...ct.resources?.requests, ...statusRequests(pod, ct.name) },
          });
          let seen = firstSeen.get(uid);
          if (!seen) firstSeen.set(uid, (seen = new Map<string, Amount>()));
          if (!seen.has(ct.name)) seen.set(ct.name, requested);
          const templateContainer = pass.template?.spec?.containers.find((x) => x.name === ct.name);
          // What the pod asked for before Tailor: the webhook's record, else the workload's template,
          // else what it held when this process first saw it.
          const baseline =
            before?.[ct.name] !== undefined
              ? { ...requested, ...defined(requestsOf(before[ct.name])) }
              : templateContainer
                ? requestsOf(templateContainer.resources)
                : seen.get(ct.name)!;
          const usage = latest?.get(ct.name);
          const fresh = usage && pass.now - usage.t <= pass.freshSeconds ? usage : undefined;
          const view = pass.seriesOf({ workload: c.workload, container: ct.name });
          const r = view.recommendation;
          const recommended =
            pass.recommendationsReady && (r.cpu || r.memory)
              ? {
                  cpu: r.cpu?.target ?? requested.cpuCores,
                  memory: r.memory ? Math.max(r.memory.target, view.memoryPeak ?? 0) : requested.memoryBytes,
                  gpu: requested.gpus,
                }
              : undefined;
          s.pods.push({
            requested: ledgerAmount(requested),
            baseline: ledgerAmount(baseline),
            // A GPU is held whole by its pod: what it holds is what it uses (DCGM duty is the carbon model's).
            ...(fresh
              ? { used: { cpu: fresh.cpuCores, memory: fresh.memoryBytes, gpu: requested.gpus } }
              : {}),
            ...(recommended ? { recommended } : {}),
          });
          // Counted once: only what happened since this container's previous sample.
          if (since !== undefined) {
            s.oomKills += oomKills(pod).filter(
              (k) => k.container === ct.name && k.t >= since && k.t < pass.now,
            ).length;
            s.resizes += changes.times(uid).filter((t) => t >= since && t < pass.now).length;
          }
        }
      }
      for (const uid of firstSeen.keys()) if (!live.has(uid)) firstSeen.delete(uid);
      for (const [key, s] of samples) s.labels = sharedLabels(labelsOf.get(key) ?? []);
      ledgers.set(policyKey, record(ledger, pass.now, [...samples.values()]));
    },
    get: (key) => ledgers.get(key) ?? EMPTY_LEDGER,
    restore(key, data) {
      // Only before this process has its own records (the checkpoint is read before the first pass).
      if (ledgers.has(key)) return;
      const d = decodeLedger(data);
      ledgers.set(key, d.ledger);
    },
    encode(key) {
      const l = ledgers.get(key);
      return l ? encodeLedger(l) : undefined;
    },
    forget(key) {
      ledgers.delete(key);
      firstSeenOf.delete(key);
    },
  };
}

function ledgerAmount(a: Amount): LedgerAmount {
  return { cpu: a.cpuCores, memory: a.memoryBytes, gpu: a.gpus };
}

/** Only the resources the annotation names (it records the changed ones). */
function defined(a: Amount): Partial<Amount> {
  return {
    ...(a.cpuCores > 0 ? { cpuCores: a.cpuCores } : {}),
    ...(a.memoryBytes > 0 ? { memoryBytes: a.memoryBytes } : {}),
  };
}

type Resources = { requests?: Record<string, string>; limits?: Record<string, string> };

/** The webhook's `tailor.dev/resources-before` of a pod, by container; undefined when absent or damaged. */
function beforeAnnotation(pod: k8s.V1Pod): Record<string, Resources> | undefined {
  const text = pod.metadata?.annotations?.[BEFORE_ANNOTATION];
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, Resources>) : undefined;
  } catch {
    return undefined;
  }
}

/** The requests the kubelet reports the container holds, when it says. */
function statusRequests(pod: k8s.V1Pod, container: string): Record<string, string> {
  const r = pod.status?.containerStatuses?.find((s) => s.name === container)?.resources?.requests;
  return r ?? {};
}
