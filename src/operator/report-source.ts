// The operator's savings report: the same gather + build as `tailor report`, read from its watch
// caches (pods, policies) and the API (nodes, checkpoints, the prices ConfigMap), built on demand
// and every minute; the latest goes to `onReport` (metrics, dashboard, digest hook in there).
import type { Logger } from 'pino';
import type * as k8s from '@kubernetes/client-node';
import type { Clients } from '../kube/client.ts';
import type { ClusterCaches } from './caches.ts';
import type { WorkloadRef } from '../sources/workloads.ts';
import { isLive } from '../controllers/sizing/matching.ts';
import { errorLine } from '../kube/errors.ts';
import { apiReader, reportProvider, type GatherOptions, type ReportReader } from '../report/gather.ts';
import type { Report, ReportProvider, ReportQuery } from '../core/report/model.ts';
import type { VolumeStatsSource } from '../sources/volume-stats.ts';
import { rollingWindow } from '../sources/volume-stats/rolling.ts';

export interface ReportSourceOptions {
  readonly clients: Clients;
  readonly caches: ClusterCaches;
  readonly resolve: (pod: k8s.V1Pod) => Promise<WorkloadRef>;
  /** The operator's one namespace: every report stays inside it (its RBAC may allow no more). */
  readonly namespace?: string;
  readonly log: Logger;
  readonly now: () => number;
  /** How often the standing report is rebuilt. Default 60 s. */
  readonly intervalMs?: number;
  /** The standing report's range. Default 7 days. */
  readonly sinceSeconds?: number;
  readonly pricesConfigMap?: GatherOptions['pricesConfigMap'];
  readonly onReport?: (report: Report) => void;
  /** The operator's volume usage source, when one is configured: reports then show volume waste. */
  readonly volumeStats?: VolumeStatsSource;
}

export interface ReportSource {
  /** A report on demand (/ui with a namespace filter, a digest), within the operator's scope. */
  readonly report: ReportProvider;
  /** The standing report, once built. */
  latest(): Report | undefined;
  start(): void;
  stop(): Promise<void>;
}

export function reportSource(o: ReportSourceOptions): ReportSource {
  const log = o.log.child({ component: 'report' });
  const api = apiReader(o.clients);
  const within = (namespaces: readonly string[] | undefined) => (ns: string | undefined) =>
    !namespaces || namespaces.includes(ns ?? '');
  // Pods and policies from the caches the controllers already keep; the rest by a read each time.
  const read: ReportReader = {
    ...api,
    pods: async (namespaces) => {
      const pods = o.caches.pods.list().filter((p) => isLive(p) && within(namespaces)(p.metadata?.namespace));
      return Promise.all(pods.map(async (pod) => ({ pod, workload: await o.resolve(pod) })));
    },
    policies: (namespaces) =>
      Promise.resolve(o.caches.policies.list().filter((p) => within(namespaces)(p.metadata.namespace))),
    // The packing what-if reads every live pod from the cache (current requests, node,
    // tolerations, affinity, node-local volumes: what slimPodSpec keeps), PDBs and policies too.
    // None for a one-namespace operator, which cannot see the other tenants' pods.
    ...(o.namespace
      ? { packing: undefined }
      : {
          packing: {
            // Owners resolved through the operator's caches: its RBAC may not list Jobs.
            pods: () => read.pods(undefined),
            policies: () => read.policies(undefined),
            pdbs: () => Promise.resolve(o.caches.pdbs.list()),
          },
        }),
  };
  const build = reportProvider(read, {
    ...(o.pricesConfigMap ? { pricesConfigMap: o.pricesConfigMap } : {}),
    // Rebuilt every minute over 7 days: read only what is new each time.
    ...(o.volumeStats ? { volumeStats: rollingWindow(o.volumeStats, { now: o.now }) } : {}),
    now: o.now,
  });
  const report: ReportProvider = (q: ReportQuery) => {
    const namespaces = o.namespace
      ? (q.namespaces ?? [o.namespace]).filter((ns) => ns === o.namespace)
      : q.namespaces;
    return build({ ...q, ...(namespaces ? { namespaces } : {}) });
  };
  let latest: Report | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const refresh = () => {
    if (running || stopped) return;
    running = report({ sinceSeconds: o.sinceSeconds ?? 7 * 86_400 })
      .then((r) => {
        latest = r;
        o.onReport?.(r);
      })
      .catch((err: unknown) =>
        log.warn({ err: errorLine(err) }, 'savings report not built; trying again later'),
      )
      .finally(() => {
        running = undefined;
      });
  };
  return {
    report,
    latest: () => latest,
    start() {
      stopped = false;
      refresh();
      timer = setInterval(refresh, o.intervalMs ?? 60_000);
      timer.unref();
    },
    stop() {
      // Not waiting for a build in flight: against an unreachable API it could take a request
      // timeout; its result is dropped.
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      return Promise.resolve();
    },
  };
}
