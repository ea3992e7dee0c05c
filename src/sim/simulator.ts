// Composition root of the simulator: nodes, the kubelet, storage and the two metrics endpoints,
// started in order against one cluster and stopped in reverse.
import * as k8s from '@kubernetes/client-node';
import { makeClients, type Clients } from '../kube/client.ts';
import { eventRecorder } from '../kube/events.ts';
import { simClock, type Clock } from './clock.ts';
import { Kubelet, type ProfileResolution } from './kubelet/kubelet.ts';
import { KubeletApi, apiserverAuthorizer, loopbackAddressOf } from './metrics/kubelet-api.ts';
import { metricsBackend, type MetricsBackend, type MetricsServerChoice } from './metrics/metrics-backend.ts';
import { resolutionFor } from './metrics/metrics-server.ts';
import { ContainerRunCounters, NodeCpuCounters, readResources } from './metrics/resource-metrics.ts';
import { PrometheusEndpoint } from './metrics/prometheus.ts';
import { usageView, type UsageView } from './metrics/view.ts';
import { NodeFleet, type SimNodeSpec } from './nodes.ts';
import { SimStorage } from './storage.ts';
import { bounded } from './shutdown.ts';
import type { ProfileContext } from './usage/types.ts';
import { SimVolumes } from './volumes/store.ts';
import { Consolidation, type ScaleDown } from './consolidation/index.ts';

/** Time each step of stop() gets: API calls (a few requests each), local servers and watches. */
const STEP_MS = { api: 10_000, local: 3_000 } as const;

export interface SimulatorOptions {
  kc: k8s.KubeConfig;
  nodes: SimNodeSpec[];
  profileFor: (pod: k8s.V1Pod, container: k8s.V1Container, ctx: ProfileContext) => ProfileResolution;
  storageClass?: string;
  /** The simulated cloud refuses to grow a volume past this (bytes); see src/sim/storage.ts. */
  volumeQuotaBytes?: number;
  /** How fast a download writes to a volume (the scenario's storage throughput); default 200 MiB/s. */
  volumeThroughputBytesPerSecond?: number;
  clock?: Clock;
  tickMs?: number;
  /** 0 picks a free port. */
  prometheusPort?: number;
  /**
   * Serve each node's kubelet Summary API (/stats/summary) over HTTPS on loopback, one port per
   * node, checking tokens as a kubelet (TokenReview, SubjectAccessReview get nodes/stats). Default true.
   */
  kubeletApi?: boolean;
  /** Serve metrics.k8s.io behind an APIService (one simulator per cluster may). */
  metricsApi?: boolean;
  /** Replace a metrics.k8s.io APIService tailor sim did not create (default: refuse to start). */
  replaceMetricsApiService?: boolean;
  /** Who serves metrics.k8s.io: the real metrics-server when built ('auto', the default), or one of them. */
  metricsServer?: MetricsServerChoice;
  /** metrics-server's --metric-resolution in simulated seconds (default 15; never under 10 s of wall time). */
  metricResolutionSeconds?: number;
  log?: (msg: string) => void;
  /** Pools whose nodes scale down when unneeded (./consolidation), by pool name; default none. */
  scaleDown?: ReadonlyMap<string, ScaleDown>;
  /** Wall time between scale-down rounds; default 2 s. */
  scaleDownIntervalMs?: number;
}

export class Simulator {
  readonly clients: Clients;
  readonly clock: Clock;
  readonly fleet: NodeFleet;
  readonly kubelet: Kubelet;
  readonly storage: SimStorage;
  readonly volumes: SimVolumes;
  readonly view: UsageView;
  readonly prometheus: PrometheusEndpoint;
  /** Who serves metrics.k8s.io (the real metrics-server or the built-in fallback), if anyone. */
  readonly metricsApi?: MetricsBackend;
  readonly kubeletApi?: KubeletApi;
  /** The scale-down loop, when a pool asked for one. */
  readonly consolidation?: Consolidation;

  private constructor(private readonly opts: SimulatorOptions) {
    const log = opts.log ?? (() => {});
    this.clients = makeClients(opts.kc);
    this.clock = opts.clock ?? simClock(1);
    this.fleet = new NodeFleet(this.clients, log);
    const events = eventRecorder(this.clients, 'tailor-sim-kubelet', log);
    this.volumes = new SimVolumes({
      capacityOf: (ns, claim) => this.storage.capacityOf(ns, claim),
      volumeOf: (ns, claim) => this.storage.volumeOf(ns, claim),
      throughputBytesPerSecond: opts.volumeThroughputBytesPerSecond ?? 200 * 2 ** 20,
      onFull: (namespace, name, message) =>
        events.record(
          { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { namespace, name } },
          'Warning',
          'VolumeFull',
          message,
        ),
    });
    this.kubelet = new Kubelet({
      clients: this.clients,
      clock: this.clock,
      nodes: this.fleet.specs,
      profileFor: opts.profileFor,
      events,
      volumes: this.volumes,
      onMemoryPressure: (node, pressure) => this.fleet.setMemoryPressure(node, pressure),
      log,
      ...(opts.tickMs ? { tickMs: opts.tickMs } : {}),
    });
    this.storage = new SimStorage(this.clients, {
      storageClass: opts.storageClass ?? 'tailor-sim',
      ...(opts.volumeQuotaBytes !== undefined ? { volumeQuotaBytes: opts.volumeQuotaBytes } : {}),
      isMounted: (ns, claim) =>
        [...this.kubelet.pods.values()].some((p) => p.namespace === ns && p.claims.includes(claim)),
      log,
    });
    this.view = usageView(this.kubelet, this.fleet.specs, () => this.clock.now(), this.volumes);
    this.prometheus = new PrometheusEndpoint(this.view);
    if (opts.scaleDown && opts.scaleDown.size > 0)
      this.consolidation = new Consolidation({
        clients: this.clients,
        clock: this.clock,
        pools: opts.scaleDown,
        events: eventRecorder(this.clients, 'tailor-sim-scale-down', log),
        removed: (node) => this.fleet.remove(node),
        log,
        ...(opts.scaleDownIntervalMs ? { intervalMs: opts.scaleDownIntervalMs } : {}),
      });
    const nodeCpu = new NodeCpuCounters();
    const runs = new ContainerRunCounters();
    const read = (node: string) =>
      readResources(this.view, node, this.clock, nodeCpu, runs, this.kubelet.lastTickAt);
    if (opts.kubeletApi !== false)
      this.kubeletApi = new KubeletApi(
        this.view,
        this.volumes,
        this.clock,
        apiserverAuthorizer(
          opts.kc,
          (kc) => ({
            authn: kc.makeApiClient(k8s.AuthenticationV1Api),
            authz: kc.makeApiClient(k8s.AuthorizationV1Api),
          }),
          log,
        ),
        read,
      );
    if (opts.metricsApi !== false)
      this.metricsApi = metricsBackend({
        choice: opts.metricsServer ?? 'auto',
        clients: this.clients,
        view: this.view,
        read,
        resolutionSeconds: resolutionFor(this.clock.speed, opts.metricResolutionSeconds),
        replaceForeign: opts.replaceMetricsApiService ?? false,
        kubelets: this.kubeletApi,
        nodeSelector: 'sim.tailor.dev/node=true',
        log,
      });
  }

  /**
   * Starts every part, or none: when a step fails (a port in use, a foreign APIService), what the
   * earlier steps registered (nodes, their Leases, the StorageClass, the APIService) is removed before the error is
   * rethrown, so a failed start leaves the cluster as it was.
   */
  static async start(opts: SimulatorOptions): Promise<Simulator> {
    const sim = new Simulator(opts);
    try {
      // 1. The kubelet endpoints' addresses and ports go into the nodes' status (InternalIP, daemonEndpoints).
      if (sim.kubeletApi) {
        await sim.kubeletApi.start(
          opts.nodes.map((n) => ({ name: n.name, address: loopbackAddressOf(n.name) })),
        );
        for (const n of opts.nodes) {
          n.kubeletPort = sim.kubeletApi.ports.get(n.name);
          n.kubeletAddress = sim.kubeletApi.addresses.get(n.name);
        }
      }
      // 2. Nodes: the scheduler can bind nothing before they exist and are Ready.
      await sim.fleet.register(opts.nodes);
      sim.fleet.start();
      // 3. Storage before pods, so a pod's claim is bound by the time the pod starts.
      await sim.storage.start();
      await sim.kubelet.start();
      sim.consolidation?.start();
      // 4. Metrics last: they only read what the kubelet keeps.
      await sim.prometheus.start(opts.prometheusPort ?? 0);
      if (sim.metricsApi) {
        await sim.metricsApi.start();
        (opts.log ?? (() => {}))(sim.metricsApi.description);
      }
    } catch (err) {
      await sim.stop({ deleteNodes: 'created' }).catch((e: unknown) => {
        (opts.log ?? (() => {}))(`cleaning up after a failed start: ${String(e)}`);
      });
      throw err;
    }
    return sim;
  }

  /**
   * Stops in reverse order and removes the metrics APIService this simulator registered.
   * deleteNodes: true deletes every node of the fleet and its Lease; 'created' only those this
   * process created, and the StorageClass if it created it (a failed start).
   */
  async stop(opts: { deleteNodes?: boolean | 'created' } = {}): Promise<void> {
    // Each step bounded: an unreachable API or a client holding a connection must not keep the rest
    // running nor the process alive; a step that fails or runs out of time is said, and the next runs.
    const log = this.opts.log ?? (() => {});
    const step = (what: string, ms: number, f: () => Promise<unknown>) => bounded(what, ms, f, log);
    const consolidation = this.consolidation;
    if (consolidation) await step('stopping the scale-down', STEP_MS.api, () => consolidation.stop());
    const metricsApi = this.metricsApi;
    if (metricsApi) {
      await step('removing the metrics APIService', STEP_MS.api, () => metricsApi.unregister());
      await step(`stopping the ${metricsApi.kind} metrics server`, STEP_MS.local, () => metricsApi.close());
    }
    await step('closing the Prometheus endpoint', STEP_MS.local, () => this.prometheus.stop());
    const kubeletApi = this.kubeletApi;
    if (kubeletApi) await step('closing the kubelet Summary API', STEP_MS.local, () => kubeletApi.stop());
    await step('stopping the kubelet', STEP_MS.local, () => this.kubelet.stop());
    await step('stopping storage', STEP_MS.local, () => this.storage.stop());
    this.fleet.stop();
    if (opts.deleteNodes)
      await step('deleting the simulated nodes', STEP_MS.api, () =>
        this.fleet.deleteAll(opts.deleteNodes === 'created'),
      );
    if (opts.deleteNodes === 'created')
      await step('deleting the StorageClass', STEP_MS.api, () => this.storage.deleteCreated());
  }
}
