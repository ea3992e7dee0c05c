// Where the webhook's certificates live between starts: a Secret in the operator's namespace, so
// every replica and every restart serves under the same CA (the same caBundle), or the Secret
// cert-manager writes; polled, so a renewed certificate is served without a restart.
import { X509Certificate } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clients } from '../kube/client.ts';
import { classify, isAlreadyExists, isNotFound, toTailorError } from '../kube/errors.ts';
import { TailorError, describe } from '../errors.ts';
import { checkCerts, createWebhookCerts, issueServing, servingCheck, type WebhookCerts } from './certs.ts';

export const DEFAULT_TLS_SECRET = 'tailor-webhook-tls';
/** Where the Secret and the replica Leases go when no namespace is given outside a cluster. */
export const DEV_NAMESPACE = 'tailor-system';
/** On the MutatingWebhookConfiguration: cert-manager's CA injector writes caBundle, not Tailor. */
export const CERT_MANAGER_INJECT_ANNOTATION = 'cert-manager.io/inject-ca-from';

/** Who issues the serving certificate. */
export type TlsMode =
  /** Tailor's own CA, kept (key included) in the Secret; Tailor renews the serving certificate. */
  | 'SelfSigned'
  /** cert-manager issues and renews into the Secret; Tailor only reads it and never writes caBundle. */
  | 'CertManager';

/** The Secret's content in the keys cert-manager uses (tls.crt, tls.key, ca.crt), plus Tailor's ca.key. */
export interface StoredCerts {
  readonly certs: Partial<WebhookCerts>;
  readonly resourceVersion?: string;
}

/** The Secret as the store sees it; an interface so the reload rules are tested without a cluster. */
export interface CertStore {
  readonly where: string;
  read(): Promise<StoredCerts | undefined>;
  /** Writes over `previous` (undefined: create). 'Conflict': someone else wrote first, read again. */
  write(certs: WebhookCerts, previous: StoredCerts | undefined): Promise<'Written' | 'Conflict'>;
}

export function secretStore(
  clients: Clients,
  ref: { readonly namespace: string; readonly name: string },
  o: { readonly createNamespace?: boolean } = {},
): CertStore {
  const { namespace, name } = ref;
  const where = `Secret ${namespace}/${name}`;
  const body = (c: WebhookCerts, resourceVersion?: string): k8s.V1Secret => ({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'tailor' },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    data: {
      'tls.crt': b64(c.certPem),
      'tls.key': b64(c.keyPem),
      'ca.crt': b64(c.caPem),
      ...(c.caKeyPem ? { 'ca.key': b64(c.caKeyPem) } : {}),
    },
  });
  return {
    where,
    read: async () => {
      try {
        const s = await clients.core.readNamespacedSecret({ name, namespace });
        const d = s.data ?? {};
        const text = (k: string) => (d[k] ? Buffer.from(d[k], 'base64').toString('utf8') : undefined);
        const caPem = text('ca.crt');
        const certs: Partial<WebhookCerts> = {
          ...(text('tls.crt') ? { certPem: text('tls.crt')! } : {}),
          ...(text('tls.key') ? { keyPem: text('tls.key')! } : {}),
          ...(caPem ? { caPem, caBundle: b64(caPem) } : {}),
          ...(text('ca.key') ? { caKeyPem: text('ca.key')! } : {}),
        };
        return {
          certs,
          ...(s.metadata?.resourceVersion ? { resourceVersion: s.metadata.resourceVersion } : {}),
        };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw toTailorError(`reading ${where}`, err);
      }
    },
    write: async (c, previous) => {
      try {
        if (previous)
          await clients.core.replaceNamespacedSecret({
            name,
            namespace,
            body: body(c, previous.resourceVersion),
          });
        else {
          try {
            await clients.core.createNamespacedSecret({ namespace, body: body(c) });
          } catch (err) {
            if (!(o.createNamespace && isNotFound(err))) throw err;
            // Local development (`tailor dev`): the operator's namespace may not exist yet.
            await clients.core
              .createNamespace({ body: { metadata: { name: namespace } } })
              .catch((e: unknown) => {
                if (!isAlreadyExists(e)) throw e;
              });
            await clients.core.createNamespacedSecret({ namespace, body: body(c) });
          }
        }
        return 'Written';
      } catch (err) {
        if (isAlreadyExists(err) || isNotFound(err) || classify(err).kind === 'Conflict') return 'Conflict';
        throw toTailorError(`writing ${where}`, err);
      }
    },
  };
}

/**
 * The certificates to serve now. SelfSigned: the stored ones when still good for these names;
 * else a new serving certificate under the stored CA (same caBundle), else a new CA, written back;
 * another replica writing first wins and is read again. CertManager: the stored ones, as they are.
 */
export async function loadCerts(
  store: CertStore,
  mode: TlsMode,
  hosts: readonly string[],
  now: () => Date = () => new Date(),
  log?: Logger,
): Promise<WebhookCerts> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const stored = await store.read();
    switch (mode) {
      case 'CertManager': {
        const c = stored?.certs;
        if (!c?.certPem || !c.keyPem)
          throw new TailorError('Prerequisite', `${store.where} holds no tls.crt and tls.key`, {
            hint: `create a cert-manager Certificate with secretName ${store.where.split('/')[1] ?? ''} for the webhook's Service, or remove the ${CERT_MANAGER_INJECT_ANNOTATION} annotation to let Tailor issue its own`,
          });
        const check = servingCheck(c, undefined, hosts, now());
        if (check.kind === 'Invalid')
          log?.warn(`webhook: ${store.where}: ${check.reason}; served anyway (cert-manager renews it)`);
        return { certPem: c.certPem, keyPem: c.keyPem, caPem: c.caPem ?? '', caBundle: c.caBundle ?? '' };
      }
      case 'SelfSigned': {
        const check = checkCerts(stored?.certs, hosts, now());
        let next: WebhookCerts;
        switch (check.kind) {
          case 'Valid':
            return stored!.certs as WebhookCerts;
          case 'RenewServing':
            log?.info(`webhook: new serving certificate in ${store.where}: ${check.reason}`);
            next = await issueServing(
              { caPem: stored!.certs.caPem!, caKeyPem: stored!.certs.caKeyPem! },
              // The names it had stay: replicas dialled by other names must not renew it back and forth.
              [...new Set([...hosts, ...namesOf(stored!.certs.certPem)])],
              now(),
            );
            break;
          case 'NewCa':
            log?.info(`webhook: new CA in ${store.where}: ${check.reason}`);
            next = await createWebhookCerts(hosts, now());
            break;
        }
        if ((await store.write(next, stored)) === 'Written') return next;
        break; // written by another replica meanwhile: read theirs
      }
    }
  }
  throw new TailorError(
    'KubernetesApi',
    `${store.where} kept changing while the webhook wrote its certificates`,
    {
      hint: 'another process writes it too; start again',
    },
  );
}

export interface CertWatch {
  stop(): void;
}

/**
 * Every `everyMs`: read the store, renew what is due (SelfSigned), and hand any change of the
 * serving certificate to `onChange` (the server swaps its TLS context; a new CA is re-registered).
 */
export function watchCerts(
  store: CertStore,
  mode: TlsMode,
  hosts: readonly string[],
  current: WebhookCerts,
  onChange: (next: WebhookCerts) => void | Promise<void>,
  o: { readonly everyMs: number; readonly now?: () => Date; readonly log?: Logger },
): CertWatch {
  let serving = current;
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const next = await loadCerts(store, mode, hosts, o.now, o.log);
      if (next.certPem !== serving.certPem || next.keyPem !== serving.keyPem) {
        serving = next;
        await onChange(next);
        o.log?.info(`webhook: serving the certificate now in ${store.where}`);
      }
    } catch (err) {
      // The certificate in use stays: it is valid for a while yet (renewal starts with a third left).
      o.log?.warn({ err: describe(err) }, `webhook: could not refresh its certificate from ${store.where}`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), o.everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The DNS names and IPs a certificate is for; none when it does not parse. */
function namesOf(pem: string | undefined): string[] {
  if (!pem) return [];
  try {
    return (new X509Certificate(pem).subjectAltName ?? '')
      .split(', ')
      .map((n) => /^(?:DNS|IP Address):(.+)$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined);
  } catch {
    return [];
  }
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}
