/**
 * Time as the defence code sees it. Injected so tests can move time forward
 * (a ban expiring after 15 minutes) without waiting for it.
 */
export interface Clock {
  /** Milliseconds, monotonic enough for windows and durations. */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** The real clock: `performance.now()` (immune to wall-clock jumps) and timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A clock that moves only when told to: `advance(ms)` runs the sleeps it
 * passes, in order. For tests.
 */
export class ManualClock implements Clock {
  private time = 0;
  private readonly sleepers: Array<{ until: number; wake: () => void }> = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((wake) => {
      this.sleepers.push({ until: this.time + ms, wake });
      this.sleepers.sort((a, b) => a.until - b.until);
    });
  }

  /** Sleeps still waiting (for tests that check a caller is blocked). */
  get pendingSleeps(): number {
    return this.sleepers.length;
  }

  advance(ms: number): void {
    this.time += ms;
    while (this.sleepers.length > 0 && this.sleepers[0]!.until <= this.time) this.sleepers.shift()!.wake();
  }
}
