// The one shape every controller has (one folder each under controllers/): a name, start, stop.
// `tailor operator` (src/operator) builds them from one OperatorContext and runs them together.
import type { Logger } from 'pino';
import type { Clients } from '../kube/client.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { QueueObserver } from '../kube/workqueue.ts';

export interface OperatorContext {
  readonly clients: Clients;
  readonly log: Logger;
  readonly events: EventRecorder;
  /** Seconds since the epoch. Injected so tests and benchmarks can move time. */
  readonly now: () => number;
  /** Compute and report everything, change nothing (no resize, eviction, create or status write of pods). */
  readonly dryRun: boolean;
  /** The field manager for every write. */
  readonly fieldManager: string;
}

export interface Controller {
  readonly name: string;
  /** Starts watches and workers; resolves once the caches have synced. */
  start(): Promise<void>;
  /** Stops watches and workers; in-flight reconciles finish. */
  stop(): Promise<void>;
  /** The controller's own watches that do not follow the API now (failed, relisting); /readyz is false while any is. */
  unsynced?(): string[];
  /** The controller's work queue, for the operator's workqueue metrics. */
  readonly queue?: { readonly depth: number; observe(observer: QueueObserver): void };
}
