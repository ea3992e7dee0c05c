// Which webhook replicas are alive: each holds a Lease of its own, renewed while it serves, so a
// replica that stops removes the MutatingWebhookConfiguration only when no other one still serves.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clients } from '../kube/client.ts';
import { mergePatch } from '../kube/client.ts';
import { isNotFound, toTailorError } from '../kube/errors.ts';
import { microTime } from '../kube/time.ts';

/** On every replica's Lease: the configuration it serves (several webhooks may share a namespace). */
export const REPLICA_LABEL = 'tailor.dev/webhook-configuration';
export const DEFAULT_LEASE_SECONDS = 30;

export interface ReplicaLeaseOptions {
  /** Where the Leases live: the operator's namespace. */
  readonly namespace: string;
  /** The MutatingWebhookConfiguration these replicas serve. */
  readonly configuration: string;
  /** A replica not renewed for this long is taken as gone (killed without a goodbye). */
  readonly leaseSeconds?: number;
  /** Default a third of leaseSeconds. */
  readonly renewEveryMs?: number;
  /** Default the host name (the pod's name in a cluster) and a random suffix. */
  readonly identity?: string;
  readonly log?: Logger;
  readonly now?: () => Date;
}

/** What a stopping replica does with the shared configuration. */
export type OnStop =
  /** Another replica's Lease is still current: it serves, and needs the configuration. */
  | { readonly kind: 'KeepConfiguration'; readonly others: readonly string[] }
  /** This was the last replica standing. */
  | { readonly kind: 'RemoveConfiguration' };

export interface ReplicaLease {
  readonly name: string;
  /**
   * Stops renewing, deletes this replica's Lease (and expired ones of replicas killed earlier) and
   * says whether the configuration should go: only when no other replica's Lease is current.
   */
  release(): Promise<OnStop>;
}

/** The pure rule: the other replicas whose Lease has not expired at `now` (seconds since the epoch). */
export function liveOthers(
  leases: readonly { name: string; renewedAt: number | undefined; durationSeconds: number | undefined }[],
  self: string,
  now: number,
): string[] {
  return leases
    .filter((l) => l.name !== self)
    .filter(
      (l) => l.renewedAt !== undefined && l.renewedAt + (l.durationSeconds ?? DEFAULT_LEASE_SECONDS) > now,
    )
    .map((l) => l.name);
}

export async function holdReplicaLease(clients: Clients, o: ReplicaLeaseOptions): Promise<ReplicaLease> {
  const seconds = o.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const now = o.now ?? (() => new Date());
  const identity = o.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
  const name = leaseName(o.configuration, identity);
  const { namespace } = o;
  const spec = () => ({
    holderIdentity: identity,
    leaseDurationSeconds: seconds,
    renewTime: microTime(now()),
  });
  try {
    // Created raw: client-node's V1Lease turns MicroTime into a Date it serializes with 3 digits.
    await clients.objects.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, labels: { [REPLICA_LABEL]: o.configuration } },
      spec: { ...spec(), acquireTime: microTime(now()) },
    } as k8s.KubernetesObject);
  } catch (err) {
    throw toTailorError(`creating the webhook replica Lease ${namespace}/${name}`, err);
  }
  let stopped = false;
  const timer = setInterval(
    () => {
      clients.coordination
        .patchNamespacedLease({ name, namespace, body: { spec: spec() } }, mergePatch)
        .catch((err: unknown) => {
          if (!stopped) o.log?.warn({ err }, `webhook: could not renew Lease ${namespace}/${name}`);
        });
    },
    o.renewEveryMs ?? (seconds * 1000) / 3,
  );
  timer.unref();
  return {
    name,
    release: async () => {
      stopped = true;
      clearInterval(timer);
      const list = await clients.coordination.listNamespacedLease({
        namespace,
        labelSelector: `${REPLICA_LABEL}=${o.configuration}`,
      });
      const at = now().getTime() / 1000;
      const leases = list.items.map((l) => ({
        name: l.metadata?.name ?? '',
        renewedAt: timeOf(l.spec?.renewTime),
        durationSeconds: l.spec?.leaseDurationSeconds,
      }));
      const others = liveOthers(leases, name, at);
      // Its own, and those of replicas killed without a goodbye: nobody else would delete them.
      const gone = leases.filter((l) => l.name === name || !others.includes(l.name));
      await Promise.all(
        gone.map((l) =>
          clients.coordination.deleteNamespacedLease({ name: l.name, namespace }).catch((err: unknown) => {
            if (!isNotFound(err))
              o.log?.warn({ err }, `webhook: could not delete Lease ${namespace}/${l.name}`);
          }),
        ),
      );
      return others.length > 0 ? { kind: 'KeepConfiguration', others } : { kind: 'RemoveConfiguration' };
    },
  };
}

/** tailor-webhook-<configuration>-<identity>, cut to a valid object name. */
function leaseName(configuration: string, identity: string): string {
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const base = clean(configuration).startsWith('tailor-webhook')
    ? clean(configuration)
    : `tailor-webhook-${clean(configuration)}`;
  return `${base.slice(0, 180)}-${clean(identity).slice(0, 60)}`.replace(/-+$/, '');
}

function timeOf(t: Date | string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}
