// What Tailor did to each pod recently, kept in memory by pod UID: change times (for the cooldown and
// maxChangesPerHour) and the last patch that did not land (so the planner does not resend it blindly).
// After a restart the change times come back from the policy's SizingCheckpoint (checkpoint.ts), and
// the cooldown also reads the pod's own managedFields (see lastResizeTime).
import type { LastAttempt } from '../../core/resize/index.ts';

interface PodRecord {
  changes: number[];
  lastAttempt?: LastAttempt;
}

export class PodChanges {
  private readonly pods = new Map<string, PodRecord>();

  recordChange(uid: string, at: number): void {
    const r = this.get(uid);
    r.changes.push(at);
    delete r.lastAttempt;
  }

  recordAttempt(uid: string, attempt: LastAttempt): void {
    this.get(uid).lastAttempt = attempt;
  }

  lastChange(uid: string): number | undefined {
    const c = this.pods.get(uid)?.changes;
    return c && c.length > 0 ? c[c.length - 1] : undefined;
  }

  changesSince(uid: string, since: number): number {
    const r = this.pods.get(uid);
    if (!r) return 0;
    r.changes = r.changes.filter((t) => t >= since - 3600); // keep an hour beyond, drop the rest
    return r.changes.filter((t) => t >= since).length;
  }

  lastAttempt(uid: string): LastAttempt | undefined {
    return this.pods.get(uid)?.lastAttempt;
  }

  /** The change times kept for a pod, oldest first (for the checkpoint). */
  times(uid: string): readonly number[] {
    return this.pods.get(uid)?.changes ?? [];
  }

  /** Adds change times read back from a checkpoint (a union: nothing seen in this process is lost). */
  restore(uid: string, times: readonly number[]): void {
    const r = this.get(uid);
    r.changes = [...new Set([...r.changes, ...times])].sort((a, b) => a - b);
  }

  forget(uid: string): void {
    this.pods.delete(uid);
  }

  private get(uid: string): PodRecord {
    let r = this.pods.get(uid);
    if (!r) this.pods.set(uid, (r = { changes: [] }));
    return r;
  }
}
