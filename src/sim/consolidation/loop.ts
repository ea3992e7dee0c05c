// The scale-down loop's I/O: each round it reads the nodes and pods, asks decide.ts which node of
// each scale-down pool to drain, cordons it (spec.unschedulable), evicts its pods through the
// Eviction API (so the apiserver enforces PodDisruptionBudgets; a 429 is waited on, never deleted
// around), deletes the Node once empty and tells the simulator to stop its kubelet.
import type * as k8s from '@kubernetes/client-node';
import type { Clients } from '../../kube/client.ts';
import { mergePatch } from '../../kube/client.ts';
import { classify } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { holdsResources, packNode, packPod } from '../../core/packing/index.ts';
import { REMOVED_NODE_ANNOTATION, type RemovedNodeRecord } from '../../core/packing/removed.ts';
import type { Clock } from '../clock.ts';
import type { ScaleDown } from './config.ts';
import { decideScaleDown, podsToEvict, type NodeStanding } from './decide.ts';

export interface ConsolidationDeps {
  readonly clients: Clients;
  readonly clock: Clock;
  /** The pools that scale down, by name (the POOL_LABEL / packing pool). */
  readonly pools: ReadonlyMap<string, ScaleDown>;
  readonly events: EventRecorder;
  /** The Node object is gone: stop simulating it (its Lease, heartbeats, kubelet). */
  readonly removed: (node: string) => Promise<void>;
  readonly log: (msg: string) => void;
  /** Wall time between rounds; default 2 s. */
  readonly intervalMs?: number;
}

interface Drain {
  readonly pool: string;
  readonly started: number;
  /** The last refusal (a PodDisruptionBudget's 429), said when the drain is given up. */
  blocked?: string;
}

/** A node removed by the loop: what the report's realised node savings count. */
export interface RemovedNode {
  readonly node: string;
  readonly pool: string;
  readonly instanceType?: string;
  /** Epoch seconds of the wall clock (what a report's range is in). */
  readonly at: number;
}

export class Consolidation {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private unneededSince = new Map<string, number>();
  private readonly backOffUntil = new Map<string, number>();
  private readonly drains = new Map<string, Drain>();
  /** The last standing logged per node: a line is written when it changes, not every round. */
  private readonly said = new Map<string, string>();
  readonly removedNodes: RemovedNode[] = [];

  constructor(private readonly deps: ConsolidationDeps) {}

  start(): void {
    this.timer = setInterval(() => {
      this.round = this.round.then(() =>
        this.step().catch((e: unknown) => this.deps.log(`scale-down: ${classify(e).message}`)),
      );
    }, this.deps.intervalMs ?? 2000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** One round: advance every drain, then decide. Exposed for tests that drive it by hand. */
  async step(): Promise<void> {
    const { clients, clock } = this.deps;
    const now = clock.now();
    const [nodeList, podList] = await Promise.all([
      clients.core.listNode(),
      clients.core.listPodForAllNamespaces(),
    ]);
    const nodes = nodeList.items;
    const pods = podList.items.filter(holdsResources);
    const gone = new Set<string>();
    for (const [name, drain] of [...this.drains]) {
      const node = nodes.find((n) => n.metadata?.name === name);
      if ((await this.drainStep(name, node, drain, pods, now)) === 'Removed') gone.add(name);
    }
    const decision = decideScaleDown(
      {
        nodes: nodes.filter((n) => !gone.has(n.metadata?.name ?? '')).map(packNode),
        // Terminating pods are leaving; the rest count with the requests they have now.
        pods: pods.filter((p) => !p.metadata?.deletionTimestamp).map((p) => packPod(p)),
        pdbs: [],
      },
      this.deps.pools,
      {
        unneededSince: this.unneededSince,
        backOffUntil: this.backOffUntil,
        draining: new Set(this.drains.keys()),
      },
      now,
    );
    switch (decision.kind) {
      case 'Unschedulable':
        this.say('*', 'Unschedulable', `no scale-down while pods fit nowhere: ${decision.detail}`);
        return;
      case 'Decided':
        break;
    }
    this.unneededSince = new Map(decision.unneededSince);
    for (const c of decision.calls)
      this.say(c.node, c.standing, `${c.node} (pool ${c.pool}): ${c.standing}: ${c.detail}`);
    for (const c of decision.chosen) {
      const node = nodes.find((n) => n.metadata?.name === c.node);
      if (!node) continue;
      await clients.core.patchNode({ name: c.node, body: { spec: { unschedulable: true } } }, mergePatch);
      this.drains.set(c.node, { pool: c.pool, started: now });
      this.event(node, 'Normal', 'ScaleDown', `cordoned and draining for scale-down: ${c.detail}`);
    }
  }

  private async drainStep(
    name: string,
    node: k8s.V1Node | undefined,
    drain: Drain,
    pods: readonly k8s.V1Pod[],
    now: number,
  ): Promise<'Removed' | 'Draining' | 'GivenUp'> {
    const { clients } = this.deps;
    const onNode = pods
      .filter((p) => p.spec?.nodeName === name)
      .map((raw) => ({
        raw,
        pod: packPod(raw),
        terminating: raw.metadata?.deletionTimestamp !== undefined,
        mirror: raw.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined,
      }));
    const { evict, waiting } = podsToEvict(onNode);
    if (evict.length === 0 && waiting === 0) {
      await clients.core.deleteNode({ name }).catch((e: unknown) => {
        if (classify(e).kind !== 'NotFound') throw e;
      });
      this.drains.delete(name);
      this.unneededSince.delete(name);
      const instanceType = node?.metadata?.labels?.['node.kubernetes.io/instance-type'];
      const at = this.deps.clock.wall(now).getTime() / 1000;
      this.removedNodes.push({
        node: name,
        pool: drain.pool,
        at,
        ...(instanceType ? { instanceType } : {}),
      });
      if (node) {
        // Wall time: the report's range is the reader's clock, not the simulated one.
        const record: RemovedNodeRecord = { pool: drain.pool, at, facts: packNode(node).facts };
        this.event(
          node,
          'Normal',
          'ScaleDown',
          `node removed by the simulator's scale-down: empty after its drain`,
          {
            [REMOVED_NODE_ANNOTATION]: JSON.stringify(record),
          },
        );
      }
      this.say(
        name,
        'Removed',
        `${name} (pool ${drain.pool}): removed, empty after ${Math.round(now - drain.started)}s of drain`,
      );
      await this.deps.removed(name);
      return 'Removed';
    }
    // Refused this round (a 429, or an error): what the timeout counts; evicted pods are only waited for.
    let refused = 0;
    for (const p of evict) {
      const namespace = p.raw.metadata?.namespace ?? '';
      const pod = p.raw.metadata?.name ?? '';
      try {
        await clients.core.createNamespacedPodEviction({
          name: pod,
          namespace,
          body: {
            apiVersion: 'policy/v1',
            kind: 'Eviction',
            metadata: { name: pod, namespace },
            deleteOptions: { preconditions: { uid: p.raw.metadata?.uid } },
          },
        });
      } catch (err) {
        const f = classify(err);
        switch (f.kind) {
          case 'TooManyRequests':
            // A PodDisruptionBudget allows no disruption now: try again next round, until the timeout.
            drain.blocked = `${namespace}/${pod}: ${f.message}`;
            refused++;
            break;
          case 'NotFound':
          case 'Conflict':
            break;
          case 'AlreadyExists':
          case 'Invalid':
          case 'Forbidden':
          case 'Unavailable':
          case 'Other':
            drain.blocked = `${namespace}/${pod}: ${f.kind}: ${f.message}`;
            refused++;
            break;
        }
      }
    }
    const rule = this.deps.pools.get(drain.pool);
    if (refused > 0 && now - drain.started >= (rule?.drainTimeoutSeconds ?? 0)) {
      // As cluster-autoscaler after a failed drain: uncordon, say why, leave the node alone a while.
      await clients.core.patchNode({ name, body: { spec: { unschedulable: null } } }, mergePatch);
      this.drains.delete(name);
      this.backOffUntil.set(name, now + (rule?.recheckSeconds ?? 0));
      const why = drain.blocked ?? `${refused} pods not evicted`;
      if (node) this.event(node, 'Warning', 'ScaleDownFailed', `drain given up and node uncordoned: ${why}`);
      this.say(name, 'DrainFailed', `${name} (pool ${drain.pool}): drain given up, uncordoned: ${why}`);
      return 'GivenUp';
    }
    return 'Draining';
  }

  private event(
    node: k8s.V1Node,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    annotations?: Record<string, string>,
  ): void {
    this.deps.events.record(
      { apiVersion: 'v1', kind: 'Node', metadata: { name: node.metadata?.name, uid: node.metadata?.uid } },
      type,
      reason,
      message,
      annotations,
    );
  }

  private say(
    key: string,
    standing: NodeStanding | 'Removed' | 'DrainFailed' | 'Unschedulable',
    line: string,
  ): void {
    // Unneeded's countdown changes every round; its standing is what is said once.
    const said = standing === 'Unneeded' ? standing : line;
    if (this.said.get(key) === said) return;
    this.said.set(key, said);
    this.deps.log(`scale-down: ${line}`);
  }
}
