// Times full passes of a controller: a set of keys queued together (every policy after a poll, or at
// start) until each of them has finished a reconcile that began after the pass did. Pure: times come in.

export class PassTimer {
  private pending: Set<string> | undefined;
  private startedAt = 0;

  /** Starts a pass over `keys` unless one is running (the running one is timed to its end). */
  begin(keys: Iterable<string>, now: number): boolean {
    if (this.pending) return false;
    const set = new Set(keys);
    if (set.size === 0) return false;
    this.pending = set;
    this.startedAt = now;
    return true;
  }

  /**
   * A reconcile of `key` that began at `began` ended at `now` (success or not: the pass is about
   * time, errors are counted elsewhere). Returns the pass's duration when this was its last key.
   */
  done(key: string, began: number, now: number): number | undefined {
    if (!this.pending || began < this.startedAt) return undefined;
    this.pending.delete(key);
    if (this.pending.size > 0) return undefined;
    this.pending = undefined;
    return now - this.startedAt;
  }

  /** A key that will never be reconciled again (its policy is deleted) no longer holds the pass open. */
  forget(key: string, now: number): number | undefined {
    if (!this.pending?.has(key)) return undefined;
    return this.done(key, this.startedAt, now);
  }

  get running(): boolean {
    return this.pending !== undefined;
  }
}
