import { systemClock, type Clock } from './clock.js';

/**
 * A token bucket of bytes: `rate` tokens a second, at most `burst` saved up.
 *
 * Takers may go into debt: a 255 KiB read against a 100 KiB/s bucket is not
 * refused or split, the taker just waits until the debt is paid. Later takers
 * queue behind that debt, so concurrent sessions sharing one bucket are served
 * in arrival order and the total never exceeds the rate (plus one burst).
 */
export class TokenBucket {
  readonly burst: number;
  private tokens: number;
  private updated: number;

  /**
   * @param rate Bytes per second, > 0.
   * @param burst Bytes that may pass at once after a quiet spell (default: a
   *   tenth of a second's worth, so a transfer's speed is the rate from its start).
   */
  constructor(readonly rate: number, burst?: number, private readonly clock: Clock = systemClock) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`token bucket rate must be a positive number, got ${rate}`);
    this.burst = Math.max(1, burst ?? rate / 10);
    this.tokens = this.burst;
    this.updated = clock.now();
  }

  /** Tokens available now (negative while in debt). */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes `bytes` tokens at once; returns how many ms the caller must wait before using them (0: none). */
  reserve(bytes: number): number {
    this.refill();
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }

  /** Takes `bytes` tokens, resolving once they are paid for. */
  take(bytes: number): Promise<void> {
    return this.clock.sleep(this.reserve(bytes));
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updated) / 1000) * this.rate);
    this.updated = now;
  }
}

/**
 * Takes `bytes` from every bucket at once (a session's own and the global one)
 * and waits for the slowest: the transfer goes at the tightest limit.
 */
export function takeFromAll(buckets: readonly TokenBucket[], bytes: number, clock: Clock = systemClock): Promise<void> {
  if (buckets.length === 0 || bytes <= 0) return Promise.resolve();
  let wait = 0;
  for (const bucket of buckets) wait = Math.max(wait, bucket.reserve(bytes));
  return clock.sleep(wait);
}
