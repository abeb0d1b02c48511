/** A synchronous call slower than this suggests storage that can block (network, cold disk). */
const SLOW_CALL_MS = 2;
/** One slow call can be the process being descheduled, or one big unlink; this many in a row are slow storage. */
const SLOW_CALLS_TO_GIVE_UP = 3;
/** A batch of this many calls may take as long as one call (see SyncGuard.timeBatch). */
const BATCH_CALLS_PER_LIMIT = 16;
/**
 * An asynchronous call this much faster than a slow synchronous one is fast:
 * a threadpool round trip on a healthy disk takes 20-100 µs, and storage
 * whose calls take a millisecond each (slow in batches, see timeBatch) must
 * not look healthy.
 */
const FAST_ASYNC_FRACTION = 4;
/** Fast asynchronous calls in a row that turn synchronous calls back on; doubled each time they are turned off again. */
const FAST_CALLS_TO_RECOVER = 64;
/** At most this many: storage that keeps changing its pace stays asynchronous for long stretches. */
const MAX_FAST_CALLS_TO_RECOVER = 64 * 64;

/**
 * Decides whether synchronous fs calls are safe for one filesystem now.
 *
 * On a local disk with warm caches a metadata syscall takes 1-5 µs, while its
 * asynchronous form costs a libuv threadpool round trip of 20-100 µs under
 * load; so synchronous calls are a large win for many small operations. On
 * storage where a call can take milliseconds (NFS, FUSE, a cold disk) they
 * would block every session of the process instead: after a few slow calls
 * in a row the guard turns synchronous calls off, and the caller uses the
 * asynchronous forms, which never block the event loop.
 *
 * Slowness can pass: a disk is cold after the page cache was dropped, or busy
 * writing back a large upload, and a loaded machine deschedules the process
 * mid-call. So the caller times the asynchronous calls it makes meanwhile
 * (timeAsync), and enough fast ones in a row turn synchronous calls back on.
 * Turned off for good, a server's small-file latency doubled for the rest of
 * its life after one cold spell (a 4 KiB READ: 139-166 µs with the
 * synchronous read, 256-300 µs through the threadpool).
 */
export class SyncGuard {
  private slowInARow = 0;
  private fastInARow = 0;
  private disabled = false;
  /** Times synchronous calls were turned off: each makes the way back longer. */
  private turnedOff = 0;

  constructor(
    private readonly slowCallMs = SLOW_CALL_MS,
    private readonly slowCallsToGiveUp = SLOW_CALLS_TO_GIVE_UP,
    /** Told each time synchronous calls are turned off or back on. */
    private readonly onSwitch: (enabled: boolean, timesTurnedOff: number) => void = () => {},
  ) {}

  /** Whether synchronous calls may still be made. */
  get enabled(): boolean {
    return !this.disabled;
  }

  /** Runs `call` synchronously and records how long it took (also when it throws). */
  time<T>(call: () => T): T {
    const started = performance.now();
    try {
      return call();
    } finally {
      this.record(performance.now() - started);
    }
  }

  /**
   * Runs a batch of synchronous calls (a listing's lstats) and records it as
   * one call. The batch is slow when it takes longer than the per-call limit
   * times `calls / BATCH_CALLS_PER_LIMIT`: an average over ~125 µs a call,
   * some 40 times a warm lstat, is storage that blocks. A plain per-call limit
   * on the whole batch would also count a batch during which a busy machine
   * descheduled the process, and turn synchronous calls off for good.
   */
  timeBatch<T>(call: () => T, calls: (result: T) => number): T {
    const started = performance.now();
    let result: T | undefined;
    let threw = true;
    try {
      result = call();
      threw = false;
      return result;
    } finally {
      const count = threw ? 1 : calls(result as T);
      this.record((performance.now() - started) / Math.max(1, count / BATCH_CALLS_PER_LIMIT));
    }
  }

  /** Records the duration of one synchronous call, or of a batch counted as one. */
  record(elapsedMs: number): void {
    this.slowInARow = elapsedMs > this.slowCallMs ? this.slowInARow + 1 : 0;
    if (this.slowInARow < this.slowCallsToGiveUp) return;
    this.disabled = true;
    this.turnedOff++;
    this.slowInARow = 0;
    this.fastInARow = 0;
    this.onSwitch(false, this.turnedOff);
  }

  /** Starts an asynchronous call made while synchronous calls are off, and records how long it takes (also when it fails). */
  timeAsync<T>(start: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const done = () => this.recordAsync(performance.now() - started);
    return start().finally(done);
  }

  /** The fast asynchronous calls in a row that turn synchronous calls back on now. */
  get fastCallsToRecover(): number {
    return Math.min(FAST_CALLS_TO_RECOVER * 2 ** Math.max(0, this.turnedOff - 1), MAX_FAST_CALLS_TO_RECOVER);
  }

  private recordAsync(elapsedMs: number): void {
    if (!this.disabled) return;
    this.fastInARow = elapsedMs <= this.slowCallMs / FAST_ASYNC_FRACTION ? this.fastInARow + 1 : 0;
    if (this.fastInARow < this.fastCallsToRecover) return;
    this.disabled = false;
    this.fastInARow = 0;
    this.onSwitch(true, this.turnedOff);
  }
}
