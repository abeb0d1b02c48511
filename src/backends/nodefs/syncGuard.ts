/** A synchronous call slower than this suggests storage that can block (network, cold disk). */
const SLOW_CALL_MS = 2;
/** One slow call can be the process being descheduled, or one big unlink; this many in a row are slow storage. */
const SLOW_CALLS_TO_GIVE_UP = 3;

/**
 * Decides whether synchronous fs calls are still safe for one filesystem.
 *
 * On a local disk with warm caches a metadata syscall takes 1-5 µs, while its
 * asynchronous form costs a libuv threadpool round trip of 20-100 µs under
 * load; so synchronous calls are a large win for many small operations. On
 * storage where a call can take milliseconds (NFS, FUSE, a cold disk) they
 * would block every session of the process instead: after a few slow calls
 * in a row the guard turns synchronous calls off for good, and the caller
 * uses the asynchronous forms, which never block the event loop.
 */
export class SyncGuard {
  private slowInARow = 0;
  private disabled = false;

  constructor(
    private readonly slowCallMs = SLOW_CALL_MS,
    private readonly slowCallsToGiveUp = SLOW_CALLS_TO_GIVE_UP,
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

  /** Records the duration of one synchronous call, or of a batch counted as one. */
  record(elapsedMs: number): void {
    this.slowInARow = elapsedMs > this.slowCallMs ? this.slowInARow + 1 : 0;
    if (this.slowInARow >= this.slowCallsToGiveUp) this.disabled = true;
  }
}
