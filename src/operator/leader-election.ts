// Lease leader election for `tailor operator` replicas, client-go's leaderelection algorithm: one
// coordination.k8s.io/v1 Lease, taken when free or expired, renewed by its holder before the renew
// deadline, written with its resourceVersion so that of two candidates exactly one wins (409 for the other).
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { Clients } from '../kube/client.ts';
import { classify, isAlreadyExists, isNotFound } from '../kube/errors.ts';
import { microTime } from '../kube/time.ts';
import { TailorError, describe } from '../errors.ts';

/** client-go's and controller-runtime's defaults (LeaseDuration 15 s, RenewDeadline 10 s, RetryPeriod 2 s). */
export const DEFAULT_LEASE_DURATION_SECONDS = 15;
export const DEFAULT_RENEW_DEADLINE_SECONDS = 10;
export const DEFAULT_RETRY_PERIOD_SECONDS = 2;
export const DEFAULT_LEASE_NAMESPACE = 'tailor-system';
export const DEFAULT_LEASE_NAME = 'tailor-operator';

/** The Lease's spec as election reads and writes it (client-go's LeaderElectionRecord). */
export interface LeaseRecord {
  /** Empty: free (a holder that stopped cleanly released it). */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions: number;
}

/**
 * The Lease as this candidate last saw it. `observedAt` is this process's clock when the record last
 * changed (client-go's observedTime): expiry is judged on the local clock from there, never on the
 * holder's renewTime, so clock skew between replicas cannot make a live leader look expired.
 */
export interface ObservedLease {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
  /** Seconds, this process's clock. */
  readonly observedAt: number;
}

export type Decision =
  /** No Lease yet: create it, holding it. */
  | { readonly kind: 'Create' }
  /** Held by this candidate: renew it. */
  | { readonly kind: 'Renew' }
  /** Free or expired: take it over (leaseTransitions + 1). */
  | { readonly kind: 'Acquire'; readonly from: string }
  /** Another holder's Lease is still current: wait, act on nothing. */
  | { readonly kind: 'Wait'; readonly holder: string; readonly expiresAt: number };

/** The pure rule of one attempt (client-go's tryAcquireOrRenew): what to write, if anything. */
export function decide(lease: ObservedLease | undefined, now: number, me: string): Decision {
  if (!lease) return { kind: 'Create' };
  const { holderIdentity, leaseDurationSeconds } = lease.record;
  if (holderIdentity === me) return { kind: 'Renew' };
  const expiresAt = lease.observedAt + leaseDurationSeconds;
  if (holderIdentity !== '' && now < expiresAt) return { kind: 'Wait', holder: holderIdentity, expiresAt };
  return { kind: 'Acquire', from: holderIdentity };
}

/** The record to write for a Create, Renew or Acquire decision at `now` (seconds since the epoch). */
export function nextRecord(
  decision: Exclude<Decision, { kind: 'Wait' }>,
  previous: LeaseRecord | undefined,
  me: string,
  now: number,
  leaseDurationSeconds: number,
): LeaseRecord {
  const at = microTime(new Date(now * 1000));
  switch (decision.kind) {
    case 'Create':
      return {
        holderIdentity: me,
        leaseDurationSeconds,
        acquireTime: at,
        renewTime: at,
        leaseTransitions: 0,
      };
    case 'Renew':
      return {
        holderIdentity: me,
        leaseDurationSeconds,
        ...(previous?.acquireTime ? { acquireTime: previous.acquireTime } : { acquireTime: at }),
        renewTime: at,
        leaseTransitions: previous?.leaseTransitions ?? 0,
      };
    case 'Acquire':
      return {
        holderIdentity: me,
        leaseDurationSeconds,
        acquireTime: at,
        renewTime: at,
        leaseTransitions: (previous?.leaseTransitions ?? 0) + 1,
      };
  }
}

/**
 * What a stopping leader writes (client-go's release): no holder and a 1 s duration, so a waiting
 * candidate takes over at its next retry instead of waiting out the lease.
 */
export function releasedRecord(previous: LeaseRecord, now: number): LeaseRecord {
  const at = microTime(new Date(now * 1000));
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: at,
    renewTime: at,
    leaseTransitions: previous.leaseTransitions,
  };
}

/** A leader that has not renewed for the renew deadline stops acting: its Lease may be someone else's soon. */
export function renewalLost(lastRenewedAt: number, now: number, renewDeadlineSeconds: number): boolean {
  return now - lastRenewedAt >= renewDeadlineSeconds;
}

/** client-go's identity: the host name (the pod's name in a cluster) and a random suffix. */
export function defaultIdentity(): string {
  return `${process.env.POD_NAME ?? hostname()}_${randomUUID()}`;
}

export interface LeaderElectionConfig {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  /** Create the Lease's namespace when missing (local development, as the webhook's Secret does). */
  readonly createNamespace?: boolean;
}

/** startOperator's `leaderElection`: everything but where the Lease is has client-go's default. */
export interface OperatorLeaderElectionOptions extends Partial<LeaderElectionConfig> {
  /**
   * A leader that lost the Lease: `tailor operator` logs and exits non-zero (controller-runtime's
   * way: the kubelet restarts a clean candidate). Left out: the operator stops (tests, embedding).
   */
  readonly onLost?: () => void;
}

export function electionConfig(o: Partial<LeaderElectionConfig>): LeaderElectionConfig {
  const c: LeaderElectionConfig = {
    namespace: o.namespace ?? DEFAULT_LEASE_NAMESPACE,
    name: o.name ?? DEFAULT_LEASE_NAME,
    identity: o.identity ?? defaultIdentity(),
    leaseDurationSeconds: o.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS,
    renewDeadlineSeconds: o.renewDeadlineSeconds ?? DEFAULT_RENEW_DEADLINE_SECONDS,
    retryPeriodSeconds: o.retryPeriodSeconds ?? DEFAULT_RETRY_PERIOD_SECONDS,
    ...(o.createNamespace ? { createNamespace: true } : {}),
  };
  // client-go's checks: a leader must give up before its Lease can expire, and retry before giving up.
  if (!(
    c.leaseDurationSeconds > c.renewDeadlineSeconds && c.renewDeadlineSeconds > 1.2 * c.retryPeriodSeconds
  ))
    throw new TailorError(
      'InvalidInput',
      `leader election: lease duration ${c.leaseDurationSeconds}s, renew deadline ${c.renewDeadlineSeconds}s, retry period ${c.retryPeriodSeconds}s`,
      {
        hint: 'the lease duration must exceed the renew deadline, which must exceed 1.2 x the retry period (defaults 15s, 10s, 2s)',
      },
    );
  return c;
}

export interface LeaderElectorOptions {
  readonly log: Logger;
  /** Called once, when this candidate first holds the Lease. */
  readonly onStartedLeading: () => void;
  /** Called once, when a leader lost the Lease (not on a stop it asked for). */
  readonly onLostLeadership: () => void;
  /** `tailor_leader_is_leader{lease,identity}` is registered here. */
  readonly registry?: Registry;
  /** Seconds; this process's clock. */
  readonly now?: () => number;
}

/** What one attempt came to. */
type Attempt =
  | { readonly kind: 'Held' }
  | { readonly kind: 'HeldByOther'; readonly holder: string }
  /** The write lost a race (409 or 'already exists'): another candidate wrote first. */
  | { readonly kind: 'Conflict' }
  | { readonly kind: 'Failed'; readonly error: string };

/** Runs the election: `start()` begins trying, `stop()` ends it, `release()` gives the Lease up. */
export class LeaderElector {
  readonly config: LeaderElectionConfig;
  private readonly o: LeaderElectorOptions;
  private readonly now: () => number;
  private readonly gauge: Gauge<'lease' | 'identity'> | undefined;
  private observed: ObservedLease | undefined;
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private lastRenewedAt = 0;

  constructor(
    private readonly clients: Clients,
    config: LeaderElectionConfig,
    options: LeaderElectorOptions,
  ) {
    this.config = config;
    this.o = options;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.gauge = options.registry
      ? new Gauge({
          name: 'tailor_leader_is_leader',
          help: 'Whether this replica holds the leader election Lease and runs the controllers (1) or only serves (0).',
          labelNames: ['lease', 'identity'],
          registers: [options.registry],
        })
      : undefined;
    this.setGauge();
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.o.log.info(
      { lease: this.leaseRef, identity: this.config.identity },
      'leader election: waiting to acquire the Lease',
    );
    this.schedule(0);
  }

  /** Stops trying; a leader stops renewing (call `release()` once what it led has stopped). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }

  /** A leader's Lease, given up at once for a successor; nothing for a candidate that does not hold it. */
  async release(): Promise<void> {
    await this.stop();
    if (!this.leading || !this.observed) return;
    this.leading = false;
    this.setGauge();
    try {
      await this.write(releasedRecord(this.observed.record, this.now()), this.observed.resourceVersion);
      this.o.log.info({ lease: this.leaseRef }, 'leader election: released the Lease');
    } catch (err) {
      // Not fatal: the successor takes over when the lease expires instead.
      this.o.log.warn(
        { lease: this.leaseRef, err: describe(err) },
        'leader election: could not release the Lease',
      );
    }
  }

  private get leaseRef(): string {
    return `${this.config.namespace}/${this.config.name}`;
  }

  private setGauge(): void {
    this.gauge?.set({ lease: this.leaseRef, identity: this.config.identity }, this.leading ? 1 : 0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.tick();
    }, ms);
  }

  private async tick(): Promise<void> {
    const { retryPeriodSeconds, renewDeadlineSeconds } = this.config;
    // No attempt may outlast the renew deadline (client-go bounds it with a context timeout).
    const attempt = await withTimeout(this.tryAcquireOrRenew(), renewDeadlineSeconds * 1000);
    if (this.stopped) {
      // Won while stopping: nothing was started on it, but `release()` must still give it back.
      if (attempt.kind === 'Held') this.leading = true;
      return;
    }
    const now = this.now();
    if (this.leading) {
      if (attempt.kind === 'Held') this.lastRenewedAt = now;
      // Another holder, or no renewal for the deadline: stop acting before the Lease can be someone else's.
      if (attempt.kind === 'HeldByOther' || renewalLost(this.lastRenewedAt, now, renewDeadlineSeconds)) {
        this.leading = false;
        this.stopped = true;
        this.setGauge();
        this.o.log.error(
          {
            lease: this.leaseRef,
            identity: this.config.identity,
            ...(attempt.kind === 'HeldByOther' ? { holder: attempt.holder } : {}),
            ...(attempt.kind === 'Failed' ? { err: attempt.error } : {}),
          },
          'leader election: lost the Lease',
        );
        this.o.onLostLeadership();
        return;
      }
      if (attempt.kind === 'Failed')
        this.o.log.warn(
          { lease: this.leaseRef, err: attempt.error },
          'leader election: renewal failed; retrying',
        );
      this.schedule(retryPeriodSeconds * 1000);
      return;
    }
    if (attempt.kind === 'Held') {
      this.leading = true;
      this.lastRenewedAt = now;
      this.setGauge();
      this.o.log.info(
        {
          lease: this.leaseRef,
          identity: this.config.identity,
          transitions: this.observed?.record.leaseTransitions,
        },
        'leader election: acquired the Lease; starting the controllers',
      );
      this.o.onStartedLeading();
      this.schedule(retryPeriodSeconds * 1000);
      return;
    }
    if (attempt.kind === 'Failed')
      this.o.log.warn(
        { lease: this.leaseRef, err: attempt.error },
        'leader election: could not read or write the Lease',
      );
    // client-go's JitterFactor 1.2: candidates do not retry in lockstep.
    this.schedule(retryPeriodSeconds * 1000 * (1 + Math.random() * 1.2));
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { namespace, name, identity, leaseDurationSeconds } = this.config;
    try {
      let lease: k8s.V1Lease | undefined;
      try {
        lease = await this.clients.coordination.readNamespacedLease({ name, namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.observe(lease);
      const decision = decide(this.observed, this.now(), identity);
      if (decision.kind === 'Wait') return { kind: 'HeldByOther', holder: decision.holder };
      const record = nextRecord(decision, this.observed?.record, identity, this.now(), leaseDurationSeconds);
      const written = await this.write(
        record,
        decision.kind === 'Create' ? undefined : this.observed?.resourceVersion,
      );
      this.observed = { record, resourceVersion: written, observedAt: this.now() };
      return { kind: 'Held' };
    } catch (err) {
      const kind = classify(err).kind;
      if (kind === 'Conflict' || kind === 'AlreadyExists') return { kind: 'Conflict' };
      return { kind: 'Failed', error: describe(err) };
    }
  }

  /** Records what was read; the observation time moves only when the record changed. */
  private observe(lease: k8s.V1Lease | undefined): void {
    if (!lease) {
      this.observed = undefined;
      return;
    }
    const resourceVersion = lease.metadata?.resourceVersion ?? '';
    if (this.observed?.resourceVersion === resourceVersion) return;
    const spec = lease.spec ?? {};
    this.observed = {
      record: {
        holderIdentity: spec.holderIdentity ?? '',
        leaseDurationSeconds: spec.leaseDurationSeconds ?? this.config.leaseDurationSeconds,
        ...(spec.acquireTime ? { acquireTime: microTime(new Date(spec.acquireTime)) } : {}),
        ...(spec.renewTime ? { renewTime: microTime(new Date(spec.renewTime)) } : {}),
        leaseTransitions: spec.leaseTransitions ?? 0,
      },
      resourceVersion,
      observedAt: this.now(),
    };
  }

  /** Creates (no resourceVersion) or replaces the Lease; returns the new resourceVersion. */
  private async write(record: LeaseRecord, resourceVersion: string | undefined): Promise<string> {
    const { namespace, name } = this.config;
    // Raw: client-node's V1Lease turns MicroTime into a Date it serializes with 3 digits.
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
      spec: record,
    } as k8s.KubernetesObject;
    if (resourceVersion !== undefined)
      return (await this.clients.objects.replace(body)).metadata?.resourceVersion ?? '';
    try {
      return (await this.clients.objects.create(body)).metadata?.resourceVersion ?? '';
    } catch (err) {
      if (!(this.config.createNamespace && isNotFound(err))) throw err;
      // Local development (`tailor dev`): the operator's namespace may not exist yet.
      await this.clients.core
        .createNamespace({ body: { metadata: { name: namespace } } })
        .catch((e: unknown) => {
          if (!isAlreadyExists(e)) throw e;
        });
      return (await this.clients.objects.create(body)).metadata?.resourceVersion ?? '';
    }
  }
}

function withTimeout(p: Promise<Attempt>, ms: number): Promise<Attempt> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Attempt>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'Failed', error: `no answer within ${ms / 1000}s` }), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
