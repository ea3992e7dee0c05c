// The sizing controller's durable memory: one SizingCheckpoint per SizingPolicy (owned by it, so the
// garbage collector removes it with the policy), read once before the policy's first pass and
// restored into the usage history and the bookkeeping, written at most every interval (stretched
// to keep all policies under a budget of writes a minute) and at once after an eviction or a
// resize. A 409 re-reads, merges (a union of times) and retries.
import {
  API_VERSION,
  GROUP,
  VERSION,
  type SizingCheckpoint,
  type SizingCheckpointSpec,
  type SizingPolicy,
} from '../../api/index.ts';
import type { OperatorContext } from '../controller.ts';
import { classify } from '../../kube/errors.ts';
import { describe } from '../../errors.ts';
import {
  capBookkeeping,
  checkpointInterval,
  DEFAULT_CHECKPOINT_WRITES_PER_MINUTE,
  decodeSeries,
  encodeSeries,
  mergeBookkeeping,
  MAX_BOOKKEEPING_BYTES,
  MAX_CHECKPOINT_BYTES,
  trimTimes,
  MAX_EVICTIONS_KEPT,
  type Bookkeeping,
  type SeriesSnapshot,
} from '../../core/checkpoint/index.ts';
import type { ResourceConfigs, SeriesKey } from '../../sources/history.ts';
import { MAX_LEDGER_BYTES, type EncodedLedger } from '../../core/report/ledger.ts';
import { TailorError } from '../../errors.ts';
import type { HistoryGuard } from '../../operator/history-guard.ts';
import type { WorkloadKind, WorkloadRef } from '../../sources/workloads.ts';
import { seriesKeyString } from './usage.ts';
import type { PodChanges } from './pod-changes.ts';

const PLURAL = 'sizingcheckpoints';
const MAX_ATTEMPTS = 5;

/** How a policy reads its series: its tuning and window (a snapshot is restored into the same view only). */
export interface PolicyView {
  readonly configs: ResourceConfigs;
  readonly windowSeconds: number;
}

export interface CheckpointOptions {
  /** At most one periodic write per policy this often (eviction and resize writes do not wait). Default 60 s. */
  readonly intervalSeconds?: number;
  /**
   * Periodic writes a minute, all policies together: past it each policy's interval stretches
   * (src/core/checkpoint/cadence.ts). Default 300, as VPA's recommender's client allows; 0: no cap.
   */
  readonly writesPerMinute?: number;
  /** The savings ledger kept beside the series (src/controllers/sizing/ledger.ts). */
  readonly ledger?: LedgerPersistence;
}

/** What the checkpoint needs of the savings ledger: its encoding per policy, and a place to restore it. */
export interface LedgerPersistence {
  restore(policyKey: string, data: string | undefined): void;
  encode(policyKey: string, maxBytes: number): EncodedLedger | undefined;
}

export interface Checkpoints {
  /**
   * Once per policy and process, before its first pass uses the history: reads the checkpoint and
   * restores what the local store lacks. Throws when it cannot read it (the pass retries; nothing acts).
   */
  load(policy: SizingPolicy, view: PolicyView): Promise<void>;
  /** The policy's eviction times, this process's and the checkpoint's. */
  evictions(policyKey: string): readonly number[];
  /** Records an eviction; the next `save` writes at once. */
  evicted(policyKey: string, at: number): void;
  /** A pod was resized; the next `save` writes at once. */
  changed(policyKey: string): void;
  /** Writes the checkpoint when it is due. Never throws: a failed write is logged and tried again. */
  save(
    policy: SizingPolicy,
    view: PolicyView,
    series: readonly SeriesKey[],
    podUids: readonly string[],
  ): Promise<void>;
  forget(policyKey: string): void;
}

interface PolicyMemory {
  evictions: number[];
  lastWrite: number;
  urgent: boolean;
  resourceVersion?: string;
}

export function checkpoints(
  ctx: OperatorContext,
  history: HistoryGuard,
  changes: PodChanges,
  o: CheckpointOptions = {},
): Checkpoints {
  const interval = o.intervalSeconds ?? 60;
  const budget = o.writesPerMinute ?? DEFAULT_CHECKPOINT_WRITES_PER_MINUTE;
  const log = ctx.log.child({ component: 'checkpoint' });
  const loaded = new Map<string, Promise<void>>();
  const memory = new Map<string, PolicyMemory>();
  const keyOf = (p: SizingPolicy) => `${p.metadata.namespace}/${p.metadata.name}`;
  const mem = (key: string) => {
    let m = memory.get(key);
    if (!m) memory.set(key, (m = { evictions: [], lastWrite: -Infinity, urgent: false }));
    return m;
  };

  async function read(policy: SizingPolicy): Promise<SizingCheckpoint | undefined> {
    try {
      const cp = (await ctx.clients.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: policy.metadata.namespace ?? '',
        plural: PLURAL,
        name: policy.metadata.name ?? '',
      })) as SizingCheckpoint;
      // One left by an earlier policy of the same name (its garbage collection pending) is not ours.
      const owned = (cp.metadata.ownerReferences ?? []).some((r) => r.uid === policy.metadata.uid);
      if (!owned) {
        mem(keyOf(policy)).resourceVersion = cp.metadata.resourceVersion;
        return undefined;
      }
      return cp;
    } catch (err) {
      if (classify(err).kind === 'NotFound') return undefined;
      throw err;
    }
  }

  /** Folds a stored checkpoint's bookkeeping into memory (a union). */
  function absorb(key: string, cp: SizingCheckpoint, now: number): void {
    const m = mem(key);
    const theirs = bookkeepingOf(cp.spec);
    m.evictions = trimTimes([...m.evictions, ...theirs.evictions], now, MAX_EVICTIONS_KEPT);
    for (const p of theirs.pods) changes.restore(p.uid, p.changes);
    m.resourceVersion = cp.metadata.resourceVersion;
  }

  async function load(policy: SizingPolicy, view: PolicyView): Promise<void> {
    const key = keyOf(policy);
    const cp = await read(policy);
    const now = ctx.now();
    if (!cp) return;
    absorb(key, cp, now);
    o.ledger?.restore(key, cp.spec.ledger?.data);
    const decoded = decodeSeries(cp.spec.series?.data);
    if (decoded.error || decoded.skipped > 0)
      log.warn(
        { policy: key, error: decoded.error, skipped: decoded.skipped },
        'checkpoint: series left out',
      );
    let restored = 0;
    for (const s of decoded.series) {
      const r = history.run('checkpoint', (store) =>
        store.restore(
          seriesKeyOf(policy.metadata.namespace ?? '', s),
          s,
          now,
          view.configs,
          view.windowSeconds,
        ),
      );
      // A store that cannot take the checkpoint fails the pass (retried): nothing acts on half-known state.
      if (!r.ok) throw new TailorError('StoreFailed', `checkpoint of ${key} not restored: ${r.error}`);
      if (r.value) restored++;
    }
    log.info(
      { policy: key, series: decoded.series.length, restored, evictions: mem(key).evictions.length },
      'checkpoint read',
    );
  }

  async function write(
    policy: SizingPolicy,
    view: PolicyView,
    series: readonly SeriesKey[],
    uids: readonly string[],
  ) {
    const key = keyOf(policy);
    const m = mem(key);
    const now = ctx.now();
    const snaps: SeriesSnapshot[] = [];
    const seen = new Set<string>();
    for (const s of series) {
      const k = seriesKeyString(s);
      if (seen.has(k)) continue;
      seen.add(k);
      const snap = history.run('checkpoint', (store) =>
        store.snapshot(s, now, view.configs, view.windowSeconds),
      );
      // A store that cannot be read would write a checkpoint without its series, over a good one.
      if (!snap.ok) return;
      if (snap.value) snaps.push(snap.value);
    }
    const bookkeeping = (): Bookkeeping =>
      capBookkeeping(
        {
          evictions: trimTimes(m.evictions, now, MAX_EVICTIONS_KEPT),
          pods: uids
            .map((uid) => ({ uid, changes: trimTimes(changes.times(uid), now, 60) }))
            .filter((p) => p.changes.length > 0),
        },
        MAX_BOOKKEEPING_BYTES,
      );
    const ledger = o.ledger?.encode(key, MAX_LEDGER_BYTES);
    // The series get what the bookkeeping may take (whatever a merge on conflict adds) and the ledger leave.
    const encoded = encodeSeries(
      snaps,
      MAX_CHECKPOINT_BYTES - MAX_BOOKKEEPING_BYTES - (ledger?.data.length ?? 0),
    );
    if (encoded.dropped > 0)
      log.warn(
        { policy: key, dropped: encoded.dropped },
        'checkpoint: series left out to stay under the size cap',
      );
    for (let attempt = 1; ; attempt++) {
      const ours = bookkeeping();
      const body: SizingCheckpoint = {
        apiVersion: API_VERSION,
        kind: 'SizingCheckpoint',
        metadata: {
          name: policy.metadata.name ?? '',
          namespace: policy.metadata.namespace ?? '',
          labels: { 'app.kubernetes.io/managed-by': 'tailor' },
          ownerReferences: [
            {
              apiVersion: API_VERSION,
              kind: 'SizingPolicy',
              name: policy.metadata.name ?? '',
              uid: policy.metadata.uid ?? '',
              // Not a controller reference: the policy does not "control" it, it only takes it along.
              blockOwnerDeletion: false,
            },
          ],
          ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
        },
        spec: {
          policyName: policy.metadata.name ?? '',
          writtenAt: iso(now),
          ...specOf(ours),
          series: { data: encoded.data, count: encoded.kept, dropped: encoded.dropped },
          ...(ledger
            ? {
                ledger: {
                  data: ledger.data,
                  containers: ledger.containers,
                  buckets: ledger.buckets,
                  dropped: ledger.dropped,
                },
              }
            : {}),
        },
      };
      try {
        const stored = (await (m.resourceVersion
          ? ctx.clients.custom.replaceNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace: body.metadata.namespace!,
              plural: PLURAL,
              name: body.metadata.name!,
              body,
              fieldManager: ctx.fieldManager,
            })
          : ctx.clients.custom.createNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace: body.metadata.namespace!,
              plural: PLURAL,
              body,
              fieldManager: ctx.fieldManager,
            }))) as SizingCheckpoint;
        m.resourceVersion = stored.metadata.resourceVersion;
        m.lastWrite = now;
        m.urgent = false;
        return;
      } catch (err) {
        const kind = classify(err).kind;
        if (
          (kind === 'Conflict' || kind === 'AlreadyExists' || kind === 'NotFound') &&
          attempt < MAX_ATTEMPTS
        ) {
          // Written meanwhile (another replica, a process before us) or gone: read it again and merge,
          // so a newer eviction or change time in it is kept, then write the union.
          delete m.resourceVersion;
          const theirs = await read(policy);
          if (theirs) {
            const merged = mergeBookkeeping(ours, bookkeepingOf(theirs.spec), now);
            m.evictions = [...merged.evictions];
            for (const p of merged.pods) changes.restore(p.uid, p.changes);
            m.resourceVersion = theirs.metadata.resourceVersion;
          }
          continue;
        }
        throw err;
      }
    }
  }

  return {
    load(policy, view) {
      const key = keyOf(policy);
      let p = loaded.get(key);
      if (!p) {
        p = load(policy, view);
        loaded.set(key, p);
        // A failed read is tried again on the next pass.
        p.catch(() => loaded.delete(key));
      }
      return p;
    },
    evictions: (key) => memory.get(key)?.evictions ?? [],
    evicted(key, at) {
      const m = mem(key);
      m.evictions.push(at);
      m.urgent = true;
    },
    changed(key) {
      mem(key).urgent = true;
    },
    async save(policy, view, series, uids) {
      const key = keyOf(policy);
      const m = mem(key);
      // --dry-run writes nothing but status.
      // Every policy this process serves has its memory here: the budget is shared among them.
      const due = checkpointInterval(interval, memory.size, budget);
      if (ctx.dryRun || (!m.urgent && ctx.now() - m.lastWrite < due)) return;
      try {
        await write(policy, view, series, uids);
      } catch (err) {
        m.urgent = true;
        log.warn(
          { policy: key, err: describe(err) },
          'checkpoint not written; trying again on the next pass',
        );
      }
    },
    forget(key) {
      loaded.delete(key);
      memory.delete(key);
    },
  };
}

function seriesKeyOf(namespace: string, s: SeriesSnapshot): SeriesKey {
  const workload: WorkloadRef = {
    namespace,
    kind: s.workload.kind as WorkloadKind,
    name: s.workload.name,
    ...(s.workload.ownerKind ? { ownerKind: s.workload.ownerKind } : {}),
  };
  return { workload, container: s.container };
}

function bookkeepingOf(spec: SizingCheckpointSpec): Bookkeeping {
  const t = (x: string) => Date.parse(x) / 1000;
  return {
    evictions: (spec.evictions ?? []).map(t).filter(Number.isFinite),
    pods: (spec.pods ?? []).map((p) => ({ uid: p.uid, changes: p.changes.map(t).filter(Number.isFinite) })),
  };
}

function specOf(b: Bookkeeping): Pick<SizingCheckpointSpec, 'evictions' | 'pods'> {
  return {
    evictions: b.evictions.map(iso),
    pods: b.pods.map((p) => ({ uid: p.uid, changes: p.changes.map(iso) })),
  };
}

/** RFC 3339 with milliseconds: a cooldown counted from a rounded-down time would end early. */
function iso(seconds: number): string {
  return new Date(Math.ceil(seconds * 1000)).toISOString();
}
