// The webhook in one call: certificates (from their Secret), the SizingPolicy, LimitRange and
// ResourceQuota caches, the owner lookup, the HTTPS server and (optionally) the
// MutatingWebhookConfiguration with this replica's Lease, for `tailor webhook` and the operator.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Clients } from '../kube/client.ts';
import { admit, type Actuation } from './admit.ts';
import { MUTATE_PODS_PATH, serveWebhook } from './server.ts';
import { holdReplicaLease, type OnStop, type ReplicaLease } from './replicas.ts';
import { DEFAULT_TLS_SECRET, DEV_NAMESPACE, loadCerts, secretStore, watchCerts } from './tls-store.ts';
import {
  apiOwnerLookup,
  watchHpas,
  watchLimitRanges,
  watchPolicies,
  watchResourceQuotas,
  type HpaCache,
  type PolicyCache,
} from './lookups.ts';
import {
  DEFAULT_CONFIGURATION_NAME,
  caBundleOwner,
  registerWebhook,
  unregisterWebhook,
  type Endpoint,
  type NamespaceScope,
} from './register.ts';

export interface WebhookRegistration {
  /** MutatingWebhookConfiguration name; default tailor-webhook. */
  readonly name?: string;
  /** Default: every namespace but kube-system, kube-node-lease and kube-public. */
  readonly namespaces?: NamespaceScope;
  /** Default: this server's own URL (an operator outside the cluster). */
  readonly endpoint?: Endpoint;
  readonly timeoutSeconds?: number;
  readonly fieldManager?: string;
}

export interface StartWebhookOptions {
  readonly clients: Clients;
  readonly log?: Logger;
  /** Address to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port (the returned url says which). */
  readonly port?: number;
  /**
   * Host names and IPs the apiserver dials, put in the serving certificate; the first is used in
   * the url. Default: the listen host, or 127.0.0.1 when listening on every address.
   */
  readonly serveAs?: readonly string[];
  readonly maxBodyBytes?: number;
  readonly decisionTimeoutMs?: number;
  /** ReportOnly decides and logs without patching (the operator's --dry-run). Default Patch. */
  readonly actuation?: Actuation;
  /** Register the MutatingWebhookConfiguration once serving; left out, the caller registers (registerWebhook). */
  readonly register?: WebhookRegistration;
  /**
   * SizingPolicies already watched by the caller (the operator's shared cache); left out, the
   * webhook watches them itself (`tailor webhook` on its own). The caller stops what it passes.
   */
  readonly policies?: Pick<PolicyCache, 'policiesIn' | 'synced'>;
  /** HorizontalPodAutoscalers already watched by the caller; left out, the webhook watches them itself. */
  readonly hpas?: Pick<HpaCache, 'hpasIn' | 'synced'>;
  /** How long to wait for the first list of SizingPolicies before serving anyway (pods pass unchanged until then). */
  readonly syncTimeoutMs?: number;
  /**
   * The Secret holding the CA and serving certificate (cert-manager's, when its annotation is on
   * the configuration), and beside it the replicas' Leases. Default namespace: $POD_NAMESPACE,
   * the service account's, else tailor-system (created if missing: local development); default
   * name tailor-webhook-tls.
   */
  readonly tlsSecret?: { readonly namespace?: string; readonly name?: string };
  /** How often the Secret is read for a new certificate (and renewal checked). Default 60 s. */
  readonly certReloadMs?: number;
  /** This replica's Lease: taken as gone after this long without renewal. Default 30 s. */
  readonly leaseSeconds?: number;
  readonly leaseRenewMs?: number;
  /** Margin over the memory peak for new pods; the operator passes its own plan setting. */
  readonly peakMargin?: number;
}

export interface WebhookHandle {
  /** Where the apiserver sends reviews, e.g. https://127.0.0.1:38811/mutate-pods. */
  readonly url: string;
  /** Base64 PEM of the CA that signed the serving certificate, for clientConfig.caBundle ('' from cert-manager without ca.crt). */
  readonly caBundle: string;
  readonly port: number;
  /** The MutatingWebhookConfiguration registered, when `register` was given. */
  readonly configuration?: string;
  /** The Lease this replica holds while registered. */
  readonly lease?: string;
  /**
   * Gives up this replica's Lease and deletes the configuration if no other replica's Lease is
   * current (the last replica standing). Call before stop.
   */
  unregister(): Promise<OnStop>;
  /** Stops serving and watching (and gives up the Lease). The configuration stays: pods pass unchanged (failurePolicy Ignore). */
  stop(): Promise<void>;
}

/** The operator's own namespace: the downward API's, the service account's, or tailor-system outside a cluster. */
export function operatorNamespace(): { namespace: string; inCluster: boolean } {
  const fromEnv = process.env.POD_NAMESPACE;
  if (fromEnv) return { namespace: fromEnv, inCluster: true };
  try {
    const sa = readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
    if (sa) return { namespace: sa, inCluster: true };
  } catch {
    // not in a pod
  }
  return { namespace: DEV_NAMESPACE, inCluster: false };
}

export async function startWebhook(o: StartWebhookOptions): Promise<WebhookHandle> {
  const host = o.host ?? '127.0.0.1';
  const everywhere = host === '0.0.0.0' || host === '::';
  const serveAs = o.serveAs?.length ? [...o.serveAs] : [everywhere ? '127.0.0.1' : host];
  const home = o.tlsSecret?.namespace
    ? { namespace: o.tlsSecret.namespace, inCluster: true }
    : operatorNamespace();
  const store = secretStore(
    o.clients,
    { namespace: home.namespace, name: o.tlsSecret?.name ?? DEFAULT_TLS_SECRET },
    { createNamespace: !home.inCluster },
  );
  const configName = o.register?.name ?? DEFAULT_CONFIGURATION_NAME;
  // cert-manager's annotation on the configuration hands it the CA and the serving certificate.
  const mode = o.register ? await caBundleOwner(o.clients, configName) : 'SelfSigned';
  const certs = await loadCerts(store, mode, serveAs, undefined, o.log);
  let caBundle = certs.caBundle;
  const own = o.policies
    ? undefined
    : watchPolicies(o.clients, (err) => o.log?.warn({ err }, 'webhook: SizingPolicy watch failed; retrying'));
  const policies = o.policies ?? own!;
  const limitRanges = watchLimitRanges(o.clients, (err) =>
    o.log?.warn({ err }, 'webhook: LimitRange watch failed; retrying'),
  );
  const quotas = watchResourceQuotas(o.clients, (err) =>
    o.log?.warn({ err }, 'webhook: ResourceQuota watch failed; retrying'),
  );
  const ownHpas = o.hpas
    ? undefined
    : watchHpas(o.clients, (err) =>
        o.log?.warn({ err }, 'webhook: HorizontalPodAutoscaler watch failed; retrying'),
      );
  const hpas = o.hpas ?? ownHpas!;
  const caches = [...(own ? [own] : []), limitRanges, quotas, ...(ownHpas ? [ownHpas] : [])];
  const ownerOf = apiOwnerLookup(o.clients);
  const synced = await Promise.race([
    Promise.all([policies.synced, limitRanges.synced, quotas.synced, hpas.synced]).then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), o.syncTimeoutMs ?? 30_000).unref()),
  ]);
  if (!synced)
    o.log?.warn(
      'webhook: SizingPolicies, LimitRanges or ResourceQuotas not listed yet (are the CRDs installed?); new pods pass unchanged until they are',
    );

  let server;
  try {
    server = await serveWebhook({
      host,
      port: o.port ?? 0,
      tls: certs,
      decide: (body) =>
        admit(
          body,
          {
            policiesIn: policies.policiesIn,
            ownerOf,
            limitRangesIn: limitRanges.inNamespace,
            quotasIn: quotas.inNamespace,
            hpasIn: hpas.hpasIn,
            ...(o.peakMargin !== undefined ? { peakMargin: o.peakMargin } : {}),
          },
          o.actuation ?? 'Patch',
        ),
      ...(o.maxBodyBytes !== undefined ? { maxBodyBytes: o.maxBodyBytes } : {}),
      ...(o.decisionTimeoutMs !== undefined ? { decisionTimeoutMs: o.decisionTimeoutMs } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
  } catch (err) {
    await Promise.all(caches.map((c) => c.stop()));
    throw err;
  }
  const dialHost = serveAs[0]!;
  const url = `https://${isIP(dialHost) === 6 ? `[${dialHost}]` : dialHost}:${server.port}${MUTATE_PODS_PATH}`;
  const registration = o.register;
  const register = (bundle: string) =>
    registerWebhook(o.clients, {
      endpoint: registration?.endpoint ?? { kind: 'Url', url },
      // cert-manager's CA injector writes it: Tailor leaves it alone.
      caBundle: mode === 'SelfSigned' ? bundle : undefined,
      name: configName,
      ...(registration?.namespaces ? { namespaces: registration.namespaces } : {}),
      ...(registration?.timeoutSeconds !== undefined ? { timeoutSeconds: registration.timeoutSeconds } : {}),
      ...(registration?.fieldManager !== undefined ? { fieldManager: registration.fieldManager } : {}),
    });
  let configuration: string | undefined;
  const reload = watchCerts(
    store,
    mode,
    serveAs,
    certs,
    async (next) => {
      server.setTls(next);
      // Only when the Secret was lost and a new CA made: the apiserver must trust it.
      if (configuration && next.caBundle !== caBundle && mode === 'SelfSigned') await register(next.caBundle);
      caBundle = next.caBundle;
    },
    { everyMs: o.certReloadMs ?? 60_000, ...(o.log ? { log: o.log } : {}) },
  );
  let lease: ReplicaLease | undefined;
  let released: Promise<OnStop> | undefined;
  const release = () =>
    (released ??= lease ? lease.release() : Promise.resolve({ kind: 'RemoveConfiguration' }));
  const stop = async () => {
    reload.stop();
    await release().catch((err: unknown) => o.log?.warn({ err }, 'webhook: could not give up its Lease'));
    await server.close();
    await Promise.all(caches.map((c) => c.stop()));
  };

  if (registration) {
    try {
      // The Lease first: a replica stopping meanwhile sees this one and leaves the configuration.
      lease = await holdReplicaLease(o.clients, {
        namespace: home.namespace,
        configuration: configName,
        ...(o.leaseSeconds !== undefined ? { leaseSeconds: o.leaseSeconds } : {}),
        ...(o.leaseRenewMs !== undefined ? { renewEveryMs: o.leaseRenewMs } : {}),
        ...(o.log ? { log: o.log } : {}),
      });
      configuration = await register(caBundle);
    } catch (err) {
      await stop();
      throw err;
    }
  }
  o.log?.info({ url, configuration, lease: lease?.name, certificates: mode }, 'webhook: serving');
  return {
    url,
    get caBundle() {
      return caBundle;
    },
    port: server.port,
    ...(configuration ? { configuration } : {}),
    ...(lease ? { lease: lease.name } : {}),
    unregister: async () => {
      const onStop = await release();
      switch (onStop.kind) {
        case 'KeepConfiguration':
          o.log?.info({ others: onStop.others }, 'webhook: other replicas serve; configuration kept');
          break;
        case 'RemoveConfiguration':
          if (configuration) await unregisterWebhook(o.clients, configuration);
          break;
      }
      return onStop;
    },
    stop,
  };
}
