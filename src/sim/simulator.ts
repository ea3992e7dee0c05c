// Composition root of the simulator: nodes, the kubelet, storage and the two metrics endpoints,
// started in order against one cluster and stopped in reverse.
import type * as k8s from '@kubernetes/client-node';
import { makeClients, type Clients } from '../kube/client.ts';
import { eventRecorder } from '../kube/events.ts';
import { simClock, type Clock } from './clock.ts';
import { Kubelet, type ProfileResolution } from './kubelet/kubelet.ts';
import { MetricsApi } from './metrics/metrics-api.ts';
import { PrometheusEndpoint } from './metrics/prometheus.ts';
import { usageView, type UsageView } from './metrics/view.ts';
import { NodeFleet, type SimNodeSpec } from './nodes.ts';
import { SimStorage } from './storage.ts';
import { bounded } from './shutdown.ts';

/** Time each step of stop() gets: API calls (a few requests each), local servers and watches. */
const STEP_MS = { api: 10_000, local: 3_000 } as const;
import type { ProfileContext } from './usage/types.ts';

export interface SimulatorOptions {
  kc: k8s.KubeConfig;
  nodes: SimNodeSpec[];
  profileFor: (pod: k8s.V1Pod, container: k8s.V1Container, ctx: ProfileContext) => ProfileResolution;
  storageClass?: string;
  clock?: Clock;
  tickMs?: number;
  /** 0 picks a free port. */
  prometheusPort?: number;
  /** Serve metrics.k8s.io behind an APIService (one simulator per cluster may). */
  metricsApi?: boolean;
  /** Replace a metrics.k8s.io APIService tailor sim did not create (default: refuse to start). */
  replaceMetricsApiService?: boolean;
  log?: (msg: string) => void;
}

export class Simulator {
  readonly clients: Clients;
  readonly clock: Clock;
  readonly fleet: NodeFleet;
  readonly kubelet: Kubelet;
  readonly storage: SimStorage;
  readonly view: UsageView;
  readonly prometheus: PrometheusEndpoint;
  readonly metricsApi?: MetricsApi;

  private constructor(private readonly opts: SimulatorOptions) {
    const log = opts.log ?? (() => {});
    this.clients = makeClients(opts.kc);
    this.clock = opts.clock ?? simClock(1);
    this.fleet = new NodeFleet(this.clients, log);
    this.kubelet = new Kubelet({
      clients: this.clients,
      clock: this.clock,
      nodes: this.fleet.specs,
      profileFor: opts.profileFor,
      events: eventRecorder(this.clients, 'tailor-sim-kubelet', log),
      log,
      ...(opts.tickMs ? { tickMs: opts.tickMs } : {}),
    });
    this.storage = new SimStorage(this.clients, {
      storageClass: opts.storageClass ?? 'tailor-sim',
      isMounted: (ns, claim) =>
        [...this.kubelet.pods.values()].some((p) => p.namespace === ns && p.claims.includes(claim)),
      log,
    });
    this.view = usageView(
      this.kubelet,
      this.fleet.specs,
      () => this.clock.now(),
      (ns, claim) => this.storage.capacityOf(ns, claim),
    );
    this.prometheus = new PrometheusEndpoint(this.view);
    if (opts.metricsApi !== false)
      this.metricsApi = new MetricsApi(this.view, {
        replaceForeign: opts.replaceMetricsApiService ?? false,
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
      // 1. Nodes first: the scheduler can bind nothing before they exist and are Ready.
      await sim.fleet.register(opts.nodes);
      sim.fleet.start();
      // 2. Storage before pods, so a pod's claim is bound by the time the pod starts.
      await sim.storage.start();
      await sim.kubelet.start();
      // 3. Metrics last: they only read what the kubelet keeps.
      await sim.prometheus.start(opts.prometheusPort ?? 0);
      await sim.metricsApi?.start(sim.clients);
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
    const metricsApi = this.metricsApi;
    if (metricsApi) {
      await step('removing the metrics APIService', STEP_MS.api, () => metricsApi.unregister(this.clients));
      await step('closing the metrics.k8s.io server', STEP_MS.local, () => metricsApi.close());
    }
    await step('closing the Prometheus endpoint', STEP_MS.local, () => this.prometheus.stop());
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
