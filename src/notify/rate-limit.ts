// A token bucket per receiver (Slack allows about one message a second per webhook; PagerDuty
// throttles a routing key with 429): `burst` messages at once, then `perMinute`.
export interface RateLimit {
  readonly perMinute: number;
  readonly burst: number;
}

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.at = now;
  }

  /** Takes a token if one is there (0), else says how many milliseconds until one is. */
  take(now: number): number {
    const perMs = this.limit.perMinute / 60_000;
    this.tokens = Math.min(this.limit.burst, this.tokens + Math.max(0, now - this.at) * perMs);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.tokens) / perMs);
  }
}
