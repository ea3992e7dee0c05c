// The metrics.k8s.io APIService and the ExternalName Service it points at, for whichever server
// answers on loopback (the real metrics-server or the built-in fallback): registered with a check
// that it is ours to replace, removed on stop only if still ours.
import { randomUUID } from 'node:crypto';
import type { Clients } from '../../kube/client.ts';
import { TailorError } from '../../errors.ts';
import { classify, isNotFound } from '../../kube/errors.ts';

export const METRICS_SERVICE = { name: 'tailor-sim-metrics', namespace: 'kube-system' };
export const METRICS_APISERVICE = 'v1beta1.metrics.k8s.io';
/** Marks the objects the simulator created: only those it replaces, and only its own it deletes. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = { [MANAGED_BY_LABEL]: 'tailor-sim' } as const;
/** Which simulator process registered the objects (the last one to start wins, and removes them). */
export const INSTANCE_ANNOTATION = 'sim.tailor.dev/instance';

/** The registration of one simulator process: at most one at a time, removed by unregister(). */
export class MetricsApiService {
  private registered?: Registered;
  private readonly instance = randomUUID();

  constructor(
    private readonly clients: Clients,
    /** Replace a metrics.k8s.io APIService that tailor sim did not create (it is deleted on stop). */
    private readonly replaceForeign: boolean,
  ) {}

  /** Points the APIService at https://localhost:PORT, trusting `caPem` for the server's certificate. */
  async register(port: number, caPem: string): Promise<void> {
    // The aggregator writes the APIService's status (Available) on its own: a replace based on our
    // read may lose that race (409). Read, check ownership and write again.
    for (let attempt = 1; ; attempt++) {
      try {
        this.registered = await register(this.clients, port, caPem, this.replaceForeign, this.instance);
        return;
      } catch (err) {
        if (attempt >= 5 || classify(err).kind !== 'Conflict') throw err;
      }
    }
  }

  /** Removes the APIService and Service it registered (aggregated requests fail from now on). */
  async unregister(): Promise<void> {
    const registered = this.registered;
    this.registered = undefined;
    if (registered) await unregister(this.clients, registered, this.instance);
  }
}

/**
 * The aggregator reaches the simulator through an ExternalName Service pointing at localhost:
 * there is no kube-proxy here to route a ClusterIP, and Endpoints may not hold loopback addresses.
 * Both objects carry MANAGED_BY; one that exists without it (a real metrics-server's APIService)
 * is not replaced unless `replace` says so, since that would break `kubectl top` and every HPA.
 */
async function register(
  clients: Clients,
  port: number,
  caPem: string,
  replace: boolean,
  instance: string,
): Promise<Registered> {
  const metadata = (name: string, namespace?: string) => ({
    name,
    ...(namespace ? { namespace } : {}),
    labels: { 'sim.tailor.dev/metrics': 'true', ...MANAGED_BY },
    annotations: { [INSTANCE_ANNOTATION]: instance },
  });
  const svc = {
    metadata: metadata(METRICS_SERVICE.name, METRICS_SERVICE.namespace),
    spec: {
      type: 'ExternalName',
      externalName: 'localhost',
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    },
  };
  const apiService = {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: metadata(METRICS_APISERVICE),
    spec: {
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      groupPriorityMinimum: 100,
      versionPriority: 100,
      caBundle: Buffer.from(caPem).toString('base64'),
      service: { name: METRICS_SERVICE.name, namespace: METRICS_SERVICE.namespace, port },
    },
  };
  // 1. Check both before writing either: a refusal leaves the cluster as it was.
  const [currentSvc, currentApi] = await Promise.all([
    clients.core.readNamespacedService(METRICS_SERVICE).catch(orNotFound),
    clients.apiregistration.readAPIService({ name: METRICS_APISERVICE }).catch(orNotFound),
  ]);
  if (!replace) {
    if (currentApi && !isManaged(currentApi.metadata)) {
      const to = currentApi.spec?.service
        ? `Service ${currentApi.spec.service.namespace}/${currentApi.spec.service.name}`
        : 'the apiserver itself';
      throw new TailorError(
        'InvalidInput',
        `APIService ${METRICS_APISERVICE} exists and was not created by tailor sim (it points at ${to}): replacing it would break kubectl top and every HorizontalPodAutoscaler on this cluster`,
        {
          hint: `run with --no-metrics-api to keep the cluster's metrics server, or --replace-metrics-apiservice to replace it (deleted on exit, not restored)`,
        },
      );
    }
    if (currentSvc && !isManaged(currentSvc.metadata))
      throw new TailorError(
        'InvalidInput',
        `Service ${METRICS_SERVICE.namespace}/${METRICS_SERVICE.name} exists and was not created by tailor sim`,
        { hint: 'delete it, run with --no-metrics-api, or pass --replace-metrics-apiservice' },
      );
  }
  // 2. The Service, then the APIService that points at it.
  const service = currentSvc
    ? await clients.core.replaceNamespacedService({
        ...METRICS_SERVICE,
        body: {
          ...svc,
          metadata: { ...svc.metadata, resourceVersion: currentSvc.metadata?.resourceVersion },
        },
      })
    : await clients.core.createNamespacedService({ namespace: METRICS_SERVICE.namespace, body: svc });
  const registered = currentApi
    ? await clients.apiregistration.replaceAPIService({
        name: METRICS_APISERVICE,
        body: {
          ...apiService,
          metadata: { ...apiService.metadata, resourceVersion: currentApi.metadata?.resourceVersion },
        },
      })
    : await clients.apiregistration.createAPIService({ body: apiService });
  return { serviceUid: service.metadata?.uid ?? '', apiServiceUid: registered.metadata?.uid ?? '' };
}

interface Registered {
  readonly serviceUid: string;
  readonly apiServiceUid: string;
}

function isManaged(meta: { labels?: Record<string, string> } | undefined): boolean {
  return meta?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY[MANAGED_BY_LABEL];
}

function orNotFound(err: unknown): undefined {
  if (isNotFound(err)) return undefined;
  throw err;
}

/** Deleted meanwhile, or replaced by another object of the name (uid precondition failed). */
function orGone(err: unknown): undefined {
  const kind = classify(err).kind;
  if (kind === 'NotFound' || kind === 'Conflict') return undefined;
  throw err;
}

/**
 * Deletes the APIService and Service this process registered, and only those: a uid precondition
 * and the instance annotation keep it from deleting what another simulator has taken over since.
 */
async function unregister(clients: Clients, mine: Registered, instance: string): Promise<void> {
  const ours = (meta: { annotations?: Record<string, string>; uid?: string } | undefined, uid: string) =>
    meta?.uid === uid && meta.annotations?.[INSTANCE_ANNOTATION] === instance;
  const api = await clients.apiregistration.readAPIService({ name: METRICS_APISERVICE }).catch(orNotFound);
  if (api && ours(api.metadata, mine.apiServiceUid))
    await clients.apiregistration
      .deleteAPIService({ name: METRICS_APISERVICE, body: { preconditions: { uid: mine.apiServiceUid } } })
      .catch(orGone);
  const svc = await clients.core.readNamespacedService(METRICS_SERVICE).catch(orNotFound);
  if (svc && ours(svc.metadata, mine.serviceUid))
    await clients.core
      .deleteNamespacedService({ ...METRICS_SERVICE, body: { preconditions: { uid: mine.serviceUid } } })
      .catch(orGone);
}
