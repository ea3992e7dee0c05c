// What the vs-vpa benchmark measures from the simulator's own state (its ground truth, read in this
// process, no API calls): requests and limits against usage at each sample, OOM kills and restarts
// per container instance, and which pods each namespace ever ran.
import type { PodState } from '../src/sim/kubelet/state.ts';

/** Sums over samples: what was set and what was used, per resource (cores or bytes x samples). */
export interface SlackSums {
  set: number;
  used: number;
  /** Σ max(0, set − used): what was set and not used. */
  unused: number;
  /** Σ max(0, used − set): usage above what was set (CPU above its request; memory above it is reclaimable). */
  over: number;
  /** Samples of containers with no value set (no limit): not in the sums. */
  unsetSamples: number;
}

const zero = (): SlackSums => ({ set: 0, used: 0, unused: 0, over: 0, unsetSamples: 0 });

export interface ToolSums {
  cpuRequest: SlackSums;
  memoryRequest: SlackSums;
  cpuLimit: SlackSums;
  memoryLimit: SlackSums;
  samples: number;
}

export function emptySums(): ToolSums {
  return { cpuRequest: zero(), memoryRequest: zero(), cpuLimit: zero(), memoryLimit: zero(), samples: 0 };
}

function add(s: SlackSums, set: number | undefined, used: number): void {
  if (set === undefined || !(set > 0)) {
    s.unsetSamples++;
    return;
  }
  s.set += set;
  s.used += used;
  s.unused += Math.max(0, set - used);
  s.over += Math.max(0, used - set);
}

/** Relative slack: the share of what was set that went unused (0 = sized to usage at every sample). */
export function relativeSlack(s: SlackSums): number | null {
  return s.set > 0 ? Number((s.unused / s.set).toFixed(3)) : null;
}

/** Usage above what was set, as a share of usage. */
export function relativeShortfall(s: SlackSums): number | null {
  return s.used > 0 ? Number((s.over / s.used).toFixed(3)) : null;
}

export interface InstanceCounts {
  readonly workload: string;
  restarts: number;
  oomKills: number;
}

/** Accumulates samples of one namespace's running pods. */
export class FleetSampler {
  readonly sums = emptySums();
  readonly byWorkload = new Map<string, ToolSums>();
  /** Per simulated day since the start (index 0 = the first 24 simulated hours). */
  readonly byDay: ToolSums[] = [];
  /** Per pod UID: the last counters seen (a pod's counters only grow while it lives). */
  readonly pods = new Map<string, InstanceCounts>();

  constructor(readonly namespace: string) {}

  /** `day`: whole simulated days since the start, for the per-day figures. */
  sample(pods: Iterable<PodState>, day = 0): void {
    for (const p of pods) {
      if (p.namespace !== this.namespace) continue;
      const workload = p.labels.app ?? p.name;
      let restarts = 0;
      let ooms = 0;
      for (const c of p.containers.values()) {
        // A container down after an exit is restarted by the kubelet; count it now, as its kill is.
        restarts += c.restartCount + (c.backOffUntil !== undefined ? 1 : 0);
        ooms += c.oomEventsTotal;
      }
      this.pods.set(p.uid, { workload, restarts, oomKills: ooms });
      if (p.phase !== 'Running' || p.terminal || p.termination) continue;
      let w = this.byWorkload.get(workload);
      if (!w) this.byWorkload.set(workload, (w = emptySums()));
      for (let d = this.byDay.length; d <= day; d++) this.byDay.push(emptySums());
      for (const target of [this.sums, w, this.byDay[day]!]) {
        target.samples++;
        for (const c of p.containers.values()) {
          add(target.cpuRequest, c.actual.cpuRequest, c.usage.cpuCores);
          add(target.memoryRequest, c.actual.memoryRequest, c.usage.memoryBytes);
          add(target.cpuLimit, c.actual.cpuLimit, c.usage.cpuCores);
          add(target.memoryLimit, c.actual.memoryLimit, c.usage.memoryBytes);
        }
      }
    }
  }

  /** Totals over every pod the namespace ran: OOM kills, and restarts that were not OOM kills. */
  counts() {
    let restarts = 0;
    let oomKills = 0;
    for (const c of this.pods.values()) {
      restarts += c.restarts;
      oomKills += c.oomKills;
    }
    return { podsSeen: this.pods.size, oomKills, restartsNotFromOom: restarts - oomKills };
  }
}

/** What a tool sent, told apart by method and path (through its counting proxy). */
export interface RequestKinds {
  total: number;
  resizes: number;
  evictions: number;
  podDeletes: number;
  watches: number;
}

export function emptyKinds(): RequestKinds {
  return { total: 0, resizes: 0, evictions: 0, podDeletes: 0, watches: 0 };
}

export function classifyRequest(k: RequestKinds, method: string, url: string): void {
  k.total++;
  const path = url.split('?')[0] ?? '';
  if (method === 'PATCH' && /\/pods\/[^/]+\/resize$/.test(path)) k.resizes++;
  else if (method === 'POST' && /\/pods\/[^/]+\/eviction$/.test(path)) k.evictions++;
  else if (method === 'DELETE' && /\/pods\/[^/]+$/.test(path)) k.podDeletes++;
  if (/[?&]watch=(true|1)/.test(url)) k.watches++;
}
