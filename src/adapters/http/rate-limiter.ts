/**
 * A token bucket per key: `ratePerSecond` requests per second on average, bursts up to one
 * second's worth. In process memory: with several server processes each enforces its own share.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes one token; false when the key has none left (the caller answers 429). */
  take(key: string, ratePerSecond: number): boolean {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: ratePerSecond, at: now };
    bucket.tokens = Math.min(ratePerSecond, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
