/**
 * Coalesces sequential writes on one file handle into large writes.
 *
 * SFTP clients upload in 32 KiB WRITEs; one asynchronous fs write per request
 * costs a threadpool round trip each and makes uploads several times slower
 * than OpenSSH, which writes synchronously. Here a write that continues the
 * previous one is copied into a buffer and acknowledged at once; the buffer
 * goes to the file when full (while the next one fills: one flush in flight at
 * most, so memory stays at two buffers per handle), when a write does not
 * continue it, and before anything that must see the file as written (read,
 * stat, setstat, fsync, close). A failed flush is reported by every later
 * write and flush on the handle, so close() and fsync still tell the client.
 */
/** Size of a handle's first gather buffer; it doubles up to the capacity as a file's writes need. */
const FIRST_BUFFER = 64 * 1024;
/**
 * First buffers given back by closed handles, for the next ones. Most uploads
 * are small files: a new 64 KiB per file is garbage at upload speed (128 MiB
 * for 2,000 files), and V8 collects such external memory with full GCs.
 */
const idleFirstBuffers: Buffer[] = [];
const MAX_IDLE_FIRST_BUFFERS = 16;

export class WriteBehind {
  private buffer: Buffer | undefined;
  private spare: Buffer | undefined;
  private start = 0;
  private length = 0;
  private inFlight: Promise<void> | undefined;
  private failure: unknown;
  private turn: Promise<void> = Promise.resolve();

  /**
   * @param writeAt writes all of `data` at `position` (null: at the end, for O_APPEND)
   * @param capacity bytes gathered before a flush
   */
  constructor(
    private readonly writeAt: (data: Buffer, position: number | null) => Promise<void>,
    private readonly append: boolean,
    private readonly capacity = 1024 * 1024,
  ) {}

  /** Callers may overlap (the FS contract allows it); writes are applied one at a time, in call order. */
  write(offset: number, data: Buffer): Promise<void> {
    return this.serialized(() => this.gather(offset, data));
  }

  /** Writes everything gathered and waits for it; rejects with any earlier failure. */
  flush(): Promise<void> {
    return this.serialized(async () => {
      if (this.length > 0) await this.startFlush();
      await this.inFlight;
      this.throwIfFailed();
    });
  }

  private serialized(operation: () => Promise<void>): Promise<void> {
    const result = this.turn.then(operation);
    this.turn = result.catch(() => {});
    return result;
  }

  private async gather(offset: number, data: Buffer): Promise<void> {
    this.throwIfFailed();
    const continues = this.append || offset === this.start + this.length;
    if (this.length > 0 && (!continues || this.length + data.length > this.capacity)) await this.startFlush();
    if (data.length >= this.capacity) {
      // Too large to gather: wait for what is queued, then write it straight through.
      await this.inFlight;
      this.throwIfFailed();
      return this.writeAt(data, this.append ? null : offset);
    }
    if (this.length === 0) {
      // Small at first: most files are small, and a 1 MiB buffer per opened file is a 1 MiB allocation to collect.
      this.buffer ??= this.spare ?? this.firstBuffer();
      if (this.buffer === this.spare) this.spare = undefined;
      this.start = offset;
    }
    if (this.length + data.length > this.buffer!.length) this.grow(this.length + data.length);
    data.copy(this.buffer!, this.length);
    this.length += data.length;
    if (this.length === this.capacity) await this.startFlush();
  }

  private firstBuffer(): Buffer {
    if (this.capacity < FIRST_BUFFER) return Buffer.allocUnsafe(this.capacity);
    return idleFirstBuffers.pop() ?? Buffer.allocUnsafeSlow(FIRST_BUFFER);
  }

  /**
   * The handle is closed: its first-size buffers go back for other handles.
   * Only when nothing is gathered or being written, so no write still reads them.
   */
  release(): void {
    if (this.pending) return;
    for (const buffer of [this.buffer, this.spare]) {
      if (buffer?.length === FIRST_BUFFER && idleFirstBuffers.length < MAX_IDLE_FIRST_BUFFERS) idleFirstBuffers.push(buffer);
    }
    this.buffer = undefined;
    this.spare = undefined;
  }

  /** Doubles the buffer (up to the capacity) until `needed` bytes fit; a long upload grows it once, then reuses it. */
  private grow(needed: number): void {
    let size = this.buffer!.length;
    while (size < needed) size = Math.min(this.capacity, size * 2);
    const bigger = Buffer.allocUnsafe(size);
    this.buffer!.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }

  /** Whether anything is gathered or being written (a read must flush first). */
  get pending(): boolean {
    return this.length > 0 || this.inFlight !== undefined;
  }

  /** Hands the gathered bytes to the file, after the flush before it (never two at once). */
  private async startFlush(): Promise<void> {
    await this.inFlight;
    this.throwIfFailed();
    const buffer = this.buffer!;
    const data = buffer.subarray(0, this.length);
    const position = this.append ? null : this.start;
    this.buffer = undefined;
    this.length = 0;
    const flushing: Promise<void> = this.writeAt(data, position)
      .then(
        () => {
          this.spare = buffer;
        },
        (error: unknown) => {
          this.failure = error;
        },
      )
      .finally(() => {
        if (this.inFlight === flushing) this.inFlight = undefined;
      });
    this.inFlight = flushing;
  }

  /** A failed flush lost data the client was told was written: every later write and flush fails too. */
  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
