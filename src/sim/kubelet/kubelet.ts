// The simulated kubelet: runs the pods the real scheduler binds to simulated nodes. Pods go
// Pending -> Running -> Ready after their profile's start-up time; resizes follow KEP-1287;
// memory above the limit is an OOM kill; CPU above the limit is throttled and counted.
import type * as k8s from '@kubernetes/client-node';
import type { Clients } from '../../kube/client.ts';
import { mergePatch } from '../../kube/client.ts';
import { classify, isNotFound } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { watchResource, type Watched } from '../../kube/informer.ts';
import { apiTime } from '../../kube/time.ts';
import { type Clock } from '../clock.ts';
import type { SimNodeSpec } from '../nodes.ts';
import type { ProfileContext, UsageProfile, UsageSample } from '../usage/types.ts';
import { podRequests, type Capacity } from './resize.ts';
import {
  containerIdOf,
  policyOf,
  resourcesOf,
  startInstance,
  type ContainerExit,
  type ContainerState,
  type PodState,
  type TerminalReason,
} from './state.ts';
import { allocatableOf } from './allocatable.ts';
import { kubeletAdmit } from './admission.ts';
import { NodePhysics, endPod, terminalStatus } from './node-physics.ts';
import { allocatedRequests, newBook, podLevelStatus, Resizer } from './resizer.ts';
import { hasLimits, limitsOf, requestsOf, resizeConditionsOf, sidecarStatusesOf } from './resize-api.ts';
import { gracePeriodOf, shutdownSecondsOf, terminate } from './termination.ts';
import type { PodVolume, SimVolumes } from '../volumes/store.ts';
import { parseWrites } from '../volumes/writes.ts';
import { admitDevices, gpuOf } from './devices.ts';
import { healthOf, healthVerdict, killEvents } from './health.ts';
import { serverMetricsOf } from '../runtimes/metrics-endpoint.ts';

export type ProfileResolution = { ok: true; profile: UsageProfile } | { ok: false; error: string };

export interface KubeletDeps {
  clients: Clients;
  clock: Clock;
  nodes: ReadonlyMap<string, SimNodeSpec>;
  profileFor: (pod: k8s.V1Pod, container: k8s.V1Container, ctx: ProfileContext) => ProfileResolution;
  events: EventRecorder;
  log: (msg: string) => void;
  /** Wall-clock period of the usage/lifecycle loop. */
  tickMs?: number;
  /** Status writes in flight at once. */
  writeConcurrency?: number;
  /** The data on the persistent volumes; without it pods write nothing and init containers finish at once. */
  volumes?: SimVolumes;
  /** A node's MemoryPressure changed (the fleet writes the Node condition). */
  onMemoryPressure?: (node: string, pressure: boolean) => void;
}

const ZERO_USAGE: UsageSample = { cpuCores: 0, memoryBytes: 0, gpuMemoryBytes: 0, gpuUtilPercent: 0 };
const BACKOFF_BASE_S = 10;
const BACKOFF_MAX_S = 300;
const BACKOFF_RESET_S = 600;

export class Kubelet {
  readonly pods = new Map<string, PodState>();
  private watched?: Watched<k8s.V1Pod>;
  private timer?: NodeJS.Timeout;
  private lastTick: number;
  private writing = new Set<string>();
  /** Pods whose status the API has not heard yet, in the order they changed. */
  private queue = new Set<PodState>();
  private podIndex = 0;
  /** The allocation manager: pending resizes, their order and retries, actuation (./resizer.ts). */
  readonly resizer: Resizer;
  /** Status writes sent so far: numbers each write, so a resize is actuated after its allocation was reported. */
  private writeSeq = 0;
  /** Status writes and their failures, for the scale benchmark and for tests. */
  readonly stats = { statusWrites: 0, statusErrors: 0, ticks: 0, lastTickMs: 0 };
  /** CPU sharing, the OOM killer, memory pressure and evictions, per node (./node-physics.ts). */
  readonly physics: NodePhysics;
  /** Requests admitted per node, kept between ticks for the admission of new pods; undefined: recount. */
  private admitted?: Map<string, Capacity & { pods: number }>;

  constructor(private readonly deps: KubeletDeps) {
    this.lastTick = deps.clock.now();
    this.physics = new NodePhysics({
      nodes: deps.nodes,
      clockSpeed: deps.clock.speed,
      oomKill: (pod, c, now) => this.oomKill(pod, c, now),
      evict: (pod, message, now) => this.end(pod, 'Evicted', 'Evicted', message, now),
      ...(deps.onMemoryPressure ? { setMemoryPressure: deps.onMemoryPressure } : {}),
    });
    this.resizer = new Resizer(
      {
        nodeAllocatable: (name) => {
          // Allocatable, not capacity: what the node holds back is not the pods' (./allocatable.ts).
          const node = deps.nodes.get(name);
          if (!node) return { cpu: 0, memory: 0 };
          const a = allocatableOf(node);
          return { cpu: a.cpu, memory: a.memoryBytes };
        },
        restart: (pod, name) => {
          const c = (pod as PodState).containers.get(name);
          if (c) this.restart(c, deps.clock.now(), 'ResizeRestart', 0);
        },
      },
      this.lastTick,
    );
  }

  async start(): Promise<void> {
    const { clients } = this.deps;
    this.watched = watchResource<k8s.V1Pod>(
      clients.kc,
      '/api/v1/pods',
      () => clients.core.listPodForAllNamespaces(),
      {
        add: (p) => this.observe(p),
        update: (p) => this.observe(p),
        delete: (p) => {
          if (p.metadata?.uid && this.pods.delete(p.metadata.uid)) {
            this.admitted = undefined;
            this.resizer.removed(p.metadata.uid);
          }
        },
        error: (e) => this.deps.log(`pod watch: ${classify(e).message}; relisting`),
      },
    );
    await this.watched.synced;
    this.timer = setInterval(() => this.tick(), this.deps.tickMs ?? 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.watched?.stop();
  }

  /** The pods as the API shows them (the watch's cache, status as last written): what kube-state-metrics reads. */
  apiPods(): readonly k8s.V1Pod[] {
    return this.watched?.list() ?? [];
  }

  /** Pods on one node, for allocation sums and the metrics endpoints. */
  podsOn(node: string): PodState[] {
    return [...this.pods.values()].filter((p) => p.node === node);
  }

  private observe(pod: k8s.V1Pod): void {
    if (process.env.TAILOR_SIM_DEBUG)
      this.deps.log(
        `observe ${pod.metadata?.namespace}/${pod.metadata?.name} node=${pod.spec?.nodeName ?? '-'} rv=${pod.metadata?.resourceVersion}`,
      );
    const uid = pod.metadata?.uid;
    const node = pod.spec?.nodeName;
    if (!uid || !node || !this.deps.nodes.has(node)) return;
    if (pod.metadata?.deletionTimestamp) {
      this.terminate(pod);
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    let state = this.pods.get(uid);
    if (!state) {
      state = this.admit(pod);
      this.pods.set(uid, state);
      this.queue.add(state);
    }
    state.generation = pod.metadata?.generation ?? 1;
    state.priority = pod.spec?.priority ?? 0;
    state.labels = pod.metadata?.labels ?? {};
    if (!state.unsupported) this.resizer.updated(state, pod, this.pods);
    state.scheduledCondition = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  }

  /** A pod newly bound here: start its containers, or say why it cannot run. */
  private admit(pod: k8s.V1Pod): PodState {
    const now = this.deps.clock.now();
    const node = this.deps.nodes.get(pod.spec!.nodeName!)!;
    const index = this.podIndex++;
    const state: PodState = {
      uid: pod.metadata!.uid!,
      namespace: pod.metadata!.namespace!,
      name: pod.metadata!.name!,
      node: node.name,
      labels: pod.metadata?.labels ?? {},
      phase: 'Running',
      startTime: now,
      podIP: `10.${128 + ((index >> 16) & 63)}.${(index >> 8) & 255}.${index & 255}`,
      hostIP: '',
      generation: pod.metadata?.generation ?? 1,
      observedGeneration: pod.metadata?.generation ?? 1,
      containers: new Map(),
      claims: (pod.spec?.volumes ?? []).flatMap((v) =>
        v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
      ),
      dirty: true,
      resizing: newBook(pod),
    };
    if (!this.passesAdmission(pod, state, node, now)) return state;
    for (const c of pod.spec?.containers ?? []) {
      const { gpus, gpuResource, bytesPerGpu } = gpuOf(c, node);
      const r = resourcesOf(c);
      const ctx: ProfileContext = {
        seed: `${state.uid}/${c.name}`,
        startedAt: now,
        gpus,
        gpuMemoryBytesPerGpu: bytesPerGpu,
        cpuCores: r.cpuRequest,
      };
      const ctx0 = { ...ctx, podStartedAt: now };
      const resolved = this.deps.profileFor(pod, c, ctx0);
      if (!resolved.ok) {
        this.leavePending(pod, state, `container ${c.name}: ${resolved.error}`);
        break;
      }
      state.containers.set(c.name, {
        name: c.name,
        image: c.image ?? '',
        server: serverMetricsOf(c),
        profile: resolved.profile,
        remake: (startedAt, cpuCores) => {
          const again = this.deps.profileFor(pod, c, {
            ...ctx0,
            startedAt,
            cpuCores: cpuCores ?? r.cpuRequest,
          });
          return again.ok ? again.profile : resolved.profile;
        },
        startedAt: now,
        restartCount: 0,
        ready: false,
        allocated: r,
        actual: r,
        gpus,
        ...(gpuResource !== 'nvidia.com/gpu' ? { gpuResource } : {}),
        policy: policyOf(c),
        health: healthOf(c),
        usage: ZERO_USAGE,
        cpuSecondsTotal: 0,
        cfsPeriodsTotal: 0,
        cfsThrottledPeriodsTotal: 0,
        oomEventsTotal: 0,
        consecutiveCrashes: 0,
      });
    }
    if (!state.unsupported) {
      const refused = admitDevices(node, state, this.podsOn(node.name));
      if (refused) this.leavePending(pod, state, refused);
    }
    if (!state.unsupported) this.admitVolumes(pod, state, now);
    if (state.unsupported) state.containers.clear();
    return state;
  }

  /** The kubelet's admission (./admission.ts): a pod refused is Failed at once and never starts. */
  private passesAdmission(pod: k8s.V1Pod, state: PodState, node: SimNodeSpec, now: number): boolean {
    this.admitted ??= this.allocatedByNode();
    const used = this.admitted.get(node.name) ?? { cpu: 0, memory: 0, pods: 0 };
    const verdict = kubeletAdmit({
      desired: state.resizing.desired,
      node,
      used,
      memoryPressure: this.physics.underPressure(node.name),
    });
    if (verdict.outcome !== 'Admitted') {
      this.end(state, 'Rejected', verdict.outcome, verdict.message, now, pod);
      return false;
    }
    const wants = podRequests(state.resizing.desired);
    this.admitted.set(node.name, {
      cpu: used.cpu + wants.cpu,
      memory: used.memory + wants.memory,
      pods: used.pods + 1,
    });
    return true;
  }

  /** The kubelet ends a pod (rejected or evicted): Failed for good, with a Warning Event. */
  private end(
    pod: PodState,
    kind: 'Rejected' | 'Evicted',
    reason: TerminalReason,
    message: string,
    now: number,
    object?: k8s.V1Pod,
  ): void {
    endPod(pod, kind, reason, message, now);
    this.queue.add(pod);
    this.admitted = undefined;
    const ref = { namespace: pod.namespace, name: pod.name, uid: pod.uid };
    const obj = object
      ? { ...object, apiVersion: 'v1', kind: 'Pod' }
      : { apiVersion: 'v1', kind: 'Pod', metadata: ref };
    this.deps.events.record(obj, 'Warning', reason, message);
  }

  /** A pod the simulator cannot play: Pending, with a SimulationFailed Event that says why. */
  private leavePending(pod: k8s.V1Pod, state: PodState, why: string): void {
    state.phase = 'Pending';
    state.unsupported = why;
    this.deps.events.record(
      { ...pod, apiVersion: 'v1', kind: 'Pod' },
      'Warning',
      'SimulationFailed',
      `${why}; the simulator leaves this pod Pending`,
    );
  }

  /**
   * The pod's persistent volumes and what it writes to them, and its init containers: a download
   * into a volume (the writes' downloadBytes, else the model cache of an llm container when an init
   * container mounts the volume) runs in the init containers, before the app containers start.
   */
  private admitVolumes(pod: k8s.V1Pod, state: PodState, now: number): void {
    const inits = pod.spec?.initContainers?.filter((c) => c.restartPolicy !== 'Always') ?? [];
    if (inits.length > 0)
      state.init = { containers: inits.map((c) => ({ name: c.name, image: c.image ?? '' })), startedAt: now };
    const claimed = (pod.spec?.volumes ?? []).filter((v) => v.persistentVolumeClaim);
    if (claimed.length === 0) return;
    const writes = parseWrites(pod.metadata?.annotations ?? {});
    if (!writes.ok) {
      this.leavePending(pod, state, writes.error);
      return;
    }
    let modelCache = 0;
    for (const c of state.containers.values()) {
      const bytes = (c.profile as { modelCacheBytes?: number }).modelCacheBytes ?? 0;
      modelCache = Math.max(modelCache, bytes);
    }
    state.volumes = claimed.map((v): PodVolume => {
      const w = writes.byVolume(v.name);
      const downloader = inits.find((c) => c.volumeMounts?.some((m) => m.name === v.name && !m.readOnly));
      const env = new Map((downloader?.env ?? []).map((e) => [e.name, e.value]));
      const key =
        w.downloadKey ??
        (env.get('REPO') ? `${env.get('REPO')}@${env.get('REVISION') ?? 'main'}` : undefined) ??
        'download';
      return {
        claim: v.persistentVolumeClaim!.claimName,
        volumeName: v.name,
        writes: w,
        downloadBytes: downloader ? w.downloadBytes || modelCache : 0,
        downloadKey: key,
      };
    });
  }

  /** The init containers' step: true once they are all done and the app containers have started. */
  private initialize(pod: PodState, now: number, dt: number): boolean {
    const init = pod.init;
    if (!init || init.doneAt !== undefined) return true;
    const done = this.deps.volumes ? this.deps.volumes.initStep(pod, dt) : true;
    if (!done) return false;
    init.doneAt = now;
    // The app containers start now: an LLM loads its weights from here.
    for (const c of pod.containers.values()) {
      c.startedAt = now;
      c.profile = c.remake(now, c.actual.cpuRequest);
    }
    pod.dirty = true;
    return true;
  }

  /**
   * A pod being deleted: SIGTERM to its containers, which stop when the app exits or at the end of
   * the grace period (./termination.ts); the tick then makes the final delete. A pod the simulator
   * never ran (or never saw) has nothing to stop.
   */
  private terminate(pod: k8s.V1Pod): void {
    const state = this.pods.get(pod.metadata!.uid!);
    if (!state || state.unsupported || state.phase !== 'Running') {
      this.finish(pod.metadata!.namespace!, pod.metadata!.name!, pod.metadata!.uid!);
      return;
    }
    if (state.termination) return;
    state.termination = terminate(this.deps.clock.now(), gracePeriodOf(pod), shutdownSecondsOf(pod));
  }

  /** The kubelet's final delete (grace 0) once the containers have stopped: the pod leaves the node. */
  private finish(namespace: string, name: string, uid: string): void {
    if (this.writing.has(`delete/${uid}`)) return;
    this.writing.add(`delete/${uid}`);
    if (this.pods.delete(uid)) {
      this.admitted = undefined;
      this.resizer.removed(uid);
    }
    this.deps.clients.core
      // With a body the apiserver ignores query options, so the grace period goes in the body.
      .deleteNamespacedPod({ name, namespace, body: { gracePeriodSeconds: 0, preconditions: { uid } } })
      .catch((e: unknown) => {
        if (!isNotFound(e)) this.deps.log(`delete ${namespace}/${name}: ${classify(e).message}`);
      })
      .finally(() => this.writing.delete(`delete/${uid}`));
  }

  /** One step of simulated time for every pod: resize, usage, OOM, readiness, then status writes. */
  /** Simulated time of the last tick: when the usage and counters were last taken (their stats' time). */
  get lastTickAt(): number {
    return this.lastTick;
  }

  tick(): void {
    const started = performance.now();
    const now = this.deps.clock.now();
    const dt = Math.max(0, now - this.lastTick);
    this.lastTick = now;
    // 0. Deleted pods whose containers have stopped leave the node (and make room for resizes).
    for (const pod of this.pods.values())
      if (pod.termination && now >= pod.termination.stopAt) this.finish(pod.namespace, pod.name, pod.uid);
    // 1. Resizes first (allocation, then actuation once reported), so this tick's usage is judged
    // against the limits now in force.
    const allocatedByNode = this.allocatedByNode();
    this.admitted = allocatedByNode;
    const running = new Map([...this.pods].filter(([, p]) => !p.unsupported && !p.terminal));
    this.resizer.step(running, allocatedByNode, now, this.writeSeq);
    for (const pod of this.pods.values()) {
      if (pod.unsupported || pod.terminal) continue;
      if (pod.observedGeneration !== pod.generation) {
        pod.observedGeneration = pod.generation;
        pod.dirty = true;
      }
      // 2. Init containers (downloads into the volumes) before anything else runs.
      if (!this.initialize(pod, now, dt)) {
        if (pod.dirty) this.queue.add(pod);
        continue;
      }
      // 3. Usage, throttling and OOM kills; then what the app writes to its volumes.
      for (const c of pod.containers.values()) this.use(pod, c, now);
      this.deps.volumes?.runStep(pod, now, dt);
      if (pod.dirty) this.queue.add(pod);
    }
    // 4. The node: the OOM killer, CPU shared among what the containers want, memory pressure.
    this.physics.step(this.pods.values(), now, dt);
    this.flush();
    this.stats.ticks++;
    this.stats.lastTickMs = performance.now() - started;
  }

  private allocatedByNode(): Map<string, Capacity & { pods: number }> {
    const sums = new Map<string, Capacity & { pods: number }>();
    for (const p of this.pods.values()) {
      if (p.terminal) continue;
      const r = allocatedRequests(p);
      const s = sums.get(p.node) ?? { cpu: 0, memory: 0, pods: 0 };
      s.cpu += r.cpu;
      s.memory += r.memory;
      s.pods++;
      sums.set(p.node, s);
    }
    return sums;
  }

  private use(pod: PodState, c: ContainerState, now: number): void {
    if (c.backOffUntil !== undefined) {
      // Down since it exited. The kubelet's next sync starts it again (a first crash) or, in
      // back-off, shows it waiting in CrashLoopBackOff until the back-off ends.
      const exitedAt = c.lastTermination?.finishedAt ?? -Infinity;
      if (now <= exitedAt || now < c.backOffUntil) {
        if (now > exitedAt && !c.waiting) {
          c.waiting = true;
          pod.dirty = true;
        }
        return;
      }
      this.startAgain(c, now);
      pod.dirty = true;
    }
    if (c.consecutiveCrashes > 0 && now - c.startedAt >= BACKOFF_RESET_S) c.consecutiveCrashes = 0;
    // What it wants; what it gets (CPU shared on the node, CPU time and throttling) is node physics.
    const u = c.profile.sample(now);
    c.usage = u;
    if (c.actual.memoryLimit !== undefined && u.memoryBytes > c.actual.memoryLimit) {
      this.oomKill(pod, c, now);
      return;
    }
    // The process ends by itself (a server that cannot start): exit code and its last log line.
    const exit = c.profile.exit;
    if (exit !== undefined && now - c.startedAt >= exit.afterSeconds) {
      const message = c.health?.logsOnError ? exit.message : undefined;
      this.crashed(pod, c, now, exit.reason, exit.exitCode, message);
      return;
    }
    const verdict = healthVerdict(c.health, now - c.startedAt, c.profile.startupSeconds);
    switch (verdict.kind) {
      case 'Ready':
        if (!c.ready) {
          c.ready = true;
          pod.dirty = true;
        }
        return;
      case 'NotReady':
        return;
      case 'Kill': {
        // The kubelet kills the container its probe gave up on; the server, busy loading, is
        // killed when the grace period ends (SIGKILL, 137), and restarted with back-off.
        const ev = killEvents(c.health!, verdict.probe, c.name, pod.podIP);
        const ref = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
        };
        this.deps.events.record(ref, 'Warning', 'Unhealthy', ev.unhealthy);
        this.deps.events.record(ref, 'Normal', 'Killing', ev.killing);
        this.crashed(pod, c, now, 'Error', 137);
        return;
      }
    }
  }

  /** The kernel killed the container (its own limit, or the node's pods out of memory). */
  private oomKill(pod: PodState, c: ContainerState, now: number): void {
    if (c.backOffUntil !== undefined) return; // already down: nothing left to kill
    c.oomEventsTotal++;
    this.crashed(pod, c, now, 'OOMKilled', 137);
  }

  /**
   * A container that died. Its status shows it terminated (the kubelet writes the exit before it
   * acts on it: pkg/kubelet SyncPod sets the status, then the runtime restarts); the next tick
   * starts it again, or after a back-off as the kubelet does (10 s doubling to 5 min). The restart
   * count rises when it starts again, not at the exit.
   */
  private crashed(
    pod: PodState,
    c: ContainerState,
    now: number,
    reason: string,
    exitCode: number,
    message?: string,
  ): void {
    this.exited(c, now, reason, exitCode, message);
    c.consecutiveCrashes++;
    c.backOffUntil =
      c.consecutiveCrashes > 1
        ? now + Math.min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (c.consecutiveCrashes - 2))
        : now;
    c.waiting = false;
    c.ready = false;
    c.usage = ZERO_USAGE;
    pod.dirty = true;
  }

  /** A restart the kubelet makes itself (a resize with RestartContainer): the exit and the start at once. */
  private restart(c: ContainerState, now: number, reason: string, exitCode: number, message?: string): void {
    this.exited(c, now, reason, exitCode, message);
    this.startAgain(c, now);
  }

  private exited(c: ContainerState, now: number, reason: string, exitCode: number, message?: string): void {
    c.priorTermination = c.lastTermination;
    c.lastTermination = {
      reason,
      exitCode,
      startedAt: c.startedAt,
      finishedAt: now,
      ...(message !== undefined ? { message } : {}),
    };
  }

  /** A new instance of the container: loading (and its memory ramp) starts over; the pod's volumes keep their data. */
  private startAgain(c: ContainerState, now: number): void {
    c.backOffUntil = undefined;
    c.waiting = false;
    c.restartCount++;
    startInstance(c);
    c.startedAt = now;
    c.profile = c.remake(now, c.actual.cpuRequest);
    c.ready = false;
    c.usage = ZERO_USAGE;
  }

  /**
   * Writes the status of changed pods, a bounded number at a time; each finished write starts the
   * next, so thousands of new pods are reported at the apiserver's pace, not one batch per tick.
   */
  private flush(): void {
    const limit = this.deps.writeConcurrency ?? 16;
    for (const pod of this.queue) {
      if (this.writing.size >= limit) return;
      this.queue.delete(pod);
      if (!pod.dirty || this.writing.has(pod.uid) || !this.pods.has(pod.uid)) continue;
      pod.dirty = false;
      this.writing.add(pod.uid);
      this.stats.statusWrites++;
      const seq = ++this.writeSeq;
      this.deps.clients.core
        .patchNamespacedPodStatus(
          { name: pod.name, namespace: pod.namespace, body: { status: this.statusOf(pod) } },
          mergePatch,
        )
        .then(() => Resizer.reported(pod, seq))
        .catch((e: unknown) => {
          if (isNotFound(e)) {
            this.pods.delete(pod.uid);
            return;
          }
          this.stats.statusErrors++;
          pod.dirty = true;
          this.queue.add(pod);
          this.deps.log(`status ${pod.namespace}/${pod.name}: ${classify(e).message}`);
        })
        .finally(() => {
          this.writing.delete(pod.uid);
          // A change made while this write was in flight is written next.
          if (pod.dirty) this.queue.add(pod);
          this.flush();
        });
    }
  }

  statusOf(pod: PodState): k8s.V1PodStatus {
    if (pod.terminal) return terminalStatus(pod, (s) => this.deps.clock.wall(s));
    const t = (s: number) => apiTime(this.deps.clock.wall(s));
    const node = this.deps.nodes.get(pod.node);
    const containers = [...pod.containers.values()];
    const allReady = containers.length > 0 && containers.every((c) => c.ready);
    const cond = (type: string, ok: boolean, reason?: string, message?: string): k8s.V1PodCondition => ({
      type,
      status: ok ? 'True' : 'False',
      lastTransitionTime: t(pod.startTime) as unknown as Date,
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
    });
    if (pod.unsupported) {
      return {
        phase: 'Pending',
        conditions: [
          ...(pod.scheduledCondition ? [pod.scheduledCondition] : []),
          cond('PodReadyToStartContainers', false, 'SimulationFailed', pod.unsupported),
        ],
      };
    }
    const init = pod.init;
    const initializing = init !== undefined && init.doneAt === undefined;
    const conditions: k8s.V1PodCondition[] = [
      ...(pod.scheduledCondition ? [pod.scheduledCondition] : []),
      cond('PodReadyToStartContainers', true),
      initializing
        ? cond(
            'Initialized',
            false,
            'ContainersNotInitialized',
            `containers with incomplete status: [${init.containers.map((c) => c.name).join(' ')}]`,
          )
        : cond('Initialized', true),
      cond('ContainersReady', allReady, allReady ? undefined : 'ContainersNotReady'),
      cond('Ready', allReady, allReady ? undefined : 'ContainersNotReady'),
    ];
    conditions.push(...resizeConditionsOf(pod.resizing.conditions, t));
    const ordinaryInit = init?.containers.map((c, i): k8s.V1ContainerStatus => ({
      name: c.name,
      image: c.image,
      imageID: `sim://${c.image}`,
      containerID: `sim://${containerIdOf(pod.uid, c.name, 0)}`,
      restartCount: 0,
      // One after another: the last one runs the downloads (the earlier ones are done at once).
      ...(initializing && i === init.containers.length - 1
        ? {
            ready: false,
            started: true,
            state: { running: { startedAt: t(init.startedAt) as unknown as Date } },
          }
        : {
            ready: true,
            started: false,
            state: {
              terminated: {
                exitCode: 0,
                reason: 'Completed',
                startedAt: t(init.startedAt) as unknown as Date,
                finishedAt: t(init.doneAt ?? init.startedAt) as unknown as Date,
              },
            },
          }),
    }));
    const initStatuses = sidecarStatusesOf(pod, ordinaryInit, t);
    const podLevel = podLevelStatus(pod.resizing);
    if (initializing) {
      return {
        phase: 'Pending',
        hostIP: node ? hostIpOf(node) : undefined,
        podIP: pod.podIP,
        podIPs: [{ ip: pod.podIP }],
        startTime: t(pod.startTime) as unknown as Date,
        observedGeneration: pod.observedGeneration,
        conditions,
        ...podLevel,
        initContainerStatuses: initStatuses,
        containerStatuses: containers.map((c) => ({
          name: c.name,
          image: c.image,
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: { waiting: { reason: 'PodInitializing' } },
          allocatedResources: requestsOf(c.allocated, c),
          resources: {
            requests: requestsOf(c.actual, c),
            ...(hasLimits(c.actual, c) ? { limits: limitsOf(c.actual, c) } : {}),
          },
        })),
      };
    }
    return {
      phase: 'Running',
      ...(initStatuses ? { initContainerStatuses: initStatuses } : {}),
      hostIP: node ? hostIpOf(node) : undefined,
      podIP: pod.podIP,
      podIPs: [{ ip: pod.podIP }],
      startTime: t(pod.startTime) as unknown as Date,
      observedGeneration: pod.observedGeneration,
      conditions,
      ...podLevel,
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image,
        imageID: `sim://${c.image}`,
        containerID: `sim://${containerIdOf(pod.uid, c.name, c.restartCount)}`,
        ready: c.ready,
        restartCount: c.restartCount,
        ...containerStateOf(pod, c, t),
        allocatedResources: requestsOf(c.allocated, c),
        resources: {
          requests: requestsOf(c.actual, c),
          ...(hasLimits(c.actual, c) ? { limits: limitsOf(c.actual, c) } : {}),
        },
      })),
    };
  }
}

/**
 * state and lastState as the kubelet shows them: running, with the last exit; just exited
 * (terminated, the exit before it as the last state); or waiting out a back-off after an exit.
 */
function containerStateOf(
  pod: PodState,
  c: ContainerState,
  t: (s: number) => string,
): Pick<k8s.V1ContainerStatus, 'state' | 'lastState' | 'started'> {
  const terminated = (x: ContainerExit, instance: number) => ({
    reason: x.reason,
    exitCode: x.exitCode,
    ...(x.message !== undefined ? { message: x.message } : {}),
    startedAt: t(x.startedAt) as unknown as Date,
    finishedAt: t(x.finishedAt) as unknown as Date,
    containerID: `sim://${containerIdOf(pod.uid, c.name, instance)}`,
  });
  // The instance that ended last: the one before the running one, or the one that is down.
  const down = c.backOffUntil !== undefined;
  const lastInstance = down ? c.restartCount : c.restartCount - 1;
  const last = c.lastTermination ? { terminated: terminated(c.lastTermination, lastInstance) } : {};
  if (!down)
    return {
      state: { running: { startedAt: t(c.startedAt) as unknown as Date } },
      lastState: last,
      started: true,
    };
  if (c.waiting)
    return {
      state: {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off restarting failed container ${c.name} in pod ${pod.name}`,
        },
      },
      lastState: last,
      started: false,
    };
  return {
    state: last,
    lastState: c.priorTermination ? { terminated: terminated(c.priorTermination, lastInstance - 1) } : {},
    started: false,
  };
}

function hostIpOf(node: SimNodeSpec): string {
  return node.internalIP ?? '';
}
