// The webhook in one call: certificates, the SizingPolicy cache, the owner lookup, the HTTPS
// server and (optionally) the MutatingWebhookConfiguration, for `tailor webhook` and the operator.
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Clients } from '../kube/client.ts';
import { admit, type Actuation } from './admit.ts';
import { createWebhookCerts } from './certs.ts';
import {
  apiOwnerLookup,
  watchLimitRanges,
  watchPolicies,
  watchResourceQuotas,
  type PolicyCache,
} from './lookups.ts';
import { registerWebhook, type Endpoint, type NamespaceScope } from './register.ts';
import { MUTATE_PODS_PATH, serveWebhook } from './server.ts';

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
  /** How long to wait for the first list of SizingPolicies before serving anyway (pods pass unchanged until then). */
  readonly syncTimeoutMs?: number;
}

export interface WebhookHandle {
  /** Where the apiserver sends reviews, e.g. https://127.0.0.1:38811/mutate-pods. */
  readonly url: string;
  /** Base64 PEM of the CA that signed the serving certificate, for clientConfig.caBundle. */
  readonly caBundle: string;
  readonly port: number;
  /** The MutatingWebhookConfiguration registered, when `register` was given. */
  readonly configuration?: string;
  /** Stops serving and watching. The configuration stays (pods pass unchanged: failurePolicy Ignore); unregisterWebhook removes it. */
  stop(): Promise<void>;
}

export async function startWebhook(o: StartWebhookOptions): Promise<WebhookHandle> {
  const host = o.host ?? '127.0.0.1';
  const everywhere = host === '0.0.0.0' || host === '::';
  const serveAs = o.serveAs?.length ? [...o.serveAs] : [everywhere ? '127.0.0.1' : host];
  const certs = await createWebhookCerts(serveAs);
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
  const caches = [...(own ? [own] : []), limitRanges, quotas];
  const ownerOf = apiOwnerLookup(o.clients);
  const synced = await Promise.race([
    Promise.all([policies.synced, limitRanges.synced, quotas.synced]).then(() => true),
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
  const stop = async () => {
    await server.close();
    await Promise.all(caches.map((c) => c.stop()));
  };

  let configuration: string | undefined;
  if (o.register) {
    try {
      configuration = await registerWebhook(o.clients, {
        endpoint: o.register.endpoint ?? { kind: 'Url', url },
        caBundle: certs.caBundle,
        ...(o.register.name !== undefined ? { name: o.register.name } : {}),
        ...(o.register.namespaces ? { namespaces: o.register.namespaces } : {}),
        ...(o.register.timeoutSeconds !== undefined ? { timeoutSeconds: o.register.timeoutSeconds } : {}),
        ...(o.register.fieldManager !== undefined ? { fieldManager: o.register.fieldManager } : {}),
      });
    } catch (err) {
      await stop();
      throw err;
    }
  }
  o.log?.info({ url, configuration }, 'webhook: serving');
  return {
    url,
    caBundle: certs.caBundle,
    port: server.port,
    ...(configuration ? { configuration } : {}),
    stop,
  };
}
