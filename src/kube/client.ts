// Typed Kubernetes clients from a kubeconfig, and the patch content types Tailor sends.
import { Agent as HttpsAgent } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { TailorError } from '../errors.ts';

/** No API call may hang forever: a stuck connection becomes an error the caller retries. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * client-node builds a new TLS agent for every request (a handshake each time, no reuse) and
 * sets no timeout. This reuses one keep-alive agent per kubeconfig and bounds every request.
 * Watches do not pass through here: they are long by design.
 */
class TailorKubeConfig extends k8s.KubeConfig {
  private agent: HttpsAgent | undefined;
  /** Told of every request (watch starts included); set by `observeApiRequests`. */
  observer: ((r: ApiRequest) => void) | undefined;

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    this.observer?.(apiRequestOf(context.getHttpMethod(), context.getUrl()));
    await super.applySecurityAuthentication(context);
    const built = context.getAgent();
    if (built instanceof HttpsAgent) {
      this.agent ??= new HttpsAgent({ ...built.options, keepAlive: true, maxSockets: 64 });
      context.setAgent(this.agent);
    }
    context.setSignal(AbortSignal.timeout(REQUEST_TIMEOUT_MS));
  }

  /** Told of every request the apiserver's RBAC refused; see `observeRbacDenials`. */
  readonly denials = new Set<(d: RbacDenial) => void>();

  /**
   * client-node's own makeApiClient, plus one response hook: a 403 whose message is RBAC's
   * ("User X cannot VERB resource R") is reported to `denials`, so a rule missing from the
   * operator's role is counted and logged instead of disappearing into a swallowed error.
   */
  override makeApiClient<T extends k8s.ApiType>(apiClientType: k8s.ApiConstructor<T>): T {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    const denials = this.denials;
    const config = k8s.createConfiguration({
      baseServer: new k8s.ServerConfiguration(cluster.server, {}),
      authMethods: { default: this },
      promiseMiddleware: [
        {
          pre: (ctx) => Promise.resolve(ctx),
          post: async (res) => {
            if (res.httpStatusCode !== 403 || denials.size === 0) return res;
            const text = await res.body.text();
            const denial = rbacDenialOf(text);
            if (denial) for (const fn of denials) fn(denial);
            return new k8s.ResponseContext(res.httpStatusCode, res.headers, {
              text: () => Promise.resolve(text),
              binary: () => Promise.resolve(Buffer.from(text)),
            });
          },
        },
      ],
    });
    return new apiClientType(config);
  }

  // client-node's Watch (the informers' watches) builds its request here, without a URL.
  override async applyToFetchOptions(
    opts: Parameters<k8s.KubeConfig['applyToFetchOptions']>[0],
  ): ReturnType<k8s.KubeConfig['applyToFetchOptions']> {
    this.observer?.({ verb: 'watch', resource: '' });
    return super.applyToFetchOptions(opts);
  }
}

/** One API request as counted: the Kubernetes verb and the resource (group-qualified, with subresource). */
export interface ApiRequest {
  readonly verb: string;
  readonly resource: string;
}

/**
 * The verb and resource of a request URL: GET of a collection is `list`, of one object `get`;
 * `/apis/apps/v1/namespaces/a/deployments/b` is `apps/deployments`, `/api/v1/.../pods/p/resize` is
 * `pods/resize`.
 */
export function apiRequestOf(method: string, url: string): ApiRequest {
  const path = new URL(url, 'https://x').pathname.split('/').filter(Boolean);
  let rest: string[];
  let group = '';
  if (path[0] === 'api') rest = path.slice(2);
  else if (path[0] === 'apis') {
    group = path[1] ?? '';
    rest = path.slice(3);
  } else return { verb: method.toLowerCase(), resource: path.join('/') };
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const [resource = '', name, sub] = rest;
  const qualified = `${group ? `${group}/` : ''}${resource}${sub ? `/${sub}` : ''}`;
  const verbs: Record<string, string> = {
    GET: name === undefined ? 'list' : 'get',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: name === undefined ? 'deletecollection' : 'delete',
  };
  return { verb: verbs[method.toUpperCase()] ?? method.toLowerCase(), resource: qualified };
}

/**
 * Calls `fn` for each API request made through clients of `kc` (a kubeconfig from loadKubeConfig;
 * others are not observed: returns false). One observer per kubeconfig; the returned function removes it.
 */
export function observeApiRequests(kc: k8s.KubeConfig, fn: (r: ApiRequest) => void): (() => void) | false {
  if (!(kc instanceof TailorKubeConfig)) return false;
  kc.observer = fn;
  return () => {
    if (kc.observer === fn) kc.observer = undefined;
  };
}

/** A request the apiserver's authorizer refused: the operator's role lacks this rule. */
export interface RbacDenial {
  readonly verb: string;
  /** Group-qualified, with subresource: `pods/resize`, `apps/deployments`, `metrics.k8s.io/pods`. */
  readonly resource: string;
  readonly message: string;
}

/**
 * RBAC's refusal from a 403 body (a Status), or undefined for any other 403 (the resize
 * subresource's NodeCapacity refusal is a 403 too, and is not a missing rule). The authorizer
 * writes `User "U" cannot VERB resource "R" [in API group "G"] ...`, subresource as `R/S`.
 */
export function rbacDenialOf(body: string): RbacDenial | undefined {
  let message: string;
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    message = typeof m === 'string' ? m : '';
  } catch {
    return undefined;
  }
  const m = /cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?/.exec(message);
  if (!m) return undefined;
  const [, verb = '', resource = '', group = ''] = m;
  return { verb, resource: group ? `${group}/${resource}` : resource, message };
}

/**
 * Calls `fn` for every request made through clients of `kc` (a kubeconfig from loadKubeConfig)
 * that RBAC refused, watches included (they report through `reportRbacDenial`). Several observers
 * may share a kubeconfig; the returned function removes this one. False for other kubeconfigs.
 */
export function observeRbacDenials(kc: k8s.KubeConfig, fn: (d: RbacDenial) => void): (() => void) | false {
  if (!(kc instanceof TailorKubeConfig)) return false;
  kc.denials.add(fn);
  return () => kc.denials.delete(fn);
}

/** For requests that do not pass through makeApiClient (watch streams): a 403 on one of them. */
export function reportRbacDenial(kc: k8s.KubeConfig, d: RbacDenial): void {
  if (kc instanceof TailorKubeConfig) for (const fn of kc.denials) fn(d);
}

export interface Clients {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  storage: k8s.StorageV1Api;
  coordination: k8s.CoordinationV1Api;
  apiregistration: k8s.ApiregistrationV1Api;
  ext: k8s.ApiextensionsV1Api;
  custom: k8s.CustomObjectsApi;
  policy: k8s.PolicyV1Api;
  admission: k8s.AdmissionregistrationV1Api;
  events: k8s.EventsV1Api;
  objects: k8s.KubernetesObjectApi;
}

/**
 * Loads `path`, else $KUBECONFIG, else ~/.kube/config, else in-cluster; with `context`, that
 * context of it (kubectl's --context), else its current-context.
 */
export function loadKubeConfig(path?: string, context?: string): k8s.KubeConfig {
  const kc = new TailorKubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (err) {
    throw new TailorError(
      'InvalidInput',
      `cannot read kubeconfig ${path ?? '(default)'}: ${(err as Error).message}`,
      {
        cause: err,
        hint: 'pass --kubeconfig, or run `tailor dev up` for a local cluster',
      },
    );
  }
  if (context !== undefined) useContext(kc, context);
  if (!kc.getCurrentCluster()) {
    throw new TailorError('InvalidInput', `kubeconfig ${path ?? '(default)'} names no current cluster`, {
      hint: 'pass --kubeconfig PATH (tailor dev up writes ~/.tailor/dev/kubeconfig)',
    });
  }
  return kc;
}

/** Makes `name` the current context; an unknown name is refused with the ones there are. */
export function useContext(kc: k8s.KubeConfig, name: string): void {
  const names = kc.getContexts().map((c) => c.name);
  if (!names.includes(name))
    throw new TailorError('InvalidInput', `--context ${name}: no such context in the kubeconfig`, {
      hint: `one of: ${names.join(', ') || '(none)'}`,
    });
  kc.setCurrentContext(name);
}

/** The namespace the current context names (kubectl's default for -n), else "default". */
export function contextNamespace(kc: k8s.KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}

export function makeClients(kc: k8s.KubeConfig): Clients {
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    storage: kc.makeApiClient(k8s.StorageV1Api),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
    apiregistration: kc.makeApiClient(k8s.ApiregistrationV1Api),
    ext: kc.makeApiClient(k8s.ApiextensionsV1Api),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    policy: kc.makeApiClient(k8s.PolicyV1Api),
    admission: kc.makeApiClient(k8s.AdmissionregistrationV1Api),
    events: kc.makeApiClient(k8s.EventsV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
  };
}

export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
export const strategicMergePatch = k8s.setHeaderOptions(
  'Content-Type',
  k8s.PatchStrategy.StrategicMergePatch,
);
export const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
