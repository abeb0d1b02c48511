/** Size of the buffers downloads keep their read-ahead in. */
const DOWNLOAD_CHUNK = 256 * 1024;

/**
 * Reusable buffers for downloaded object data. A download copies what it
 * receives into these and gives them back once served, so a long download
 * allocates nothing per byte: new ArrayBuffers at network speed make V8 run a
 * full garbage collection every few MiB, which costs more than the copy.
 * Idle buffers are kept up to `maxIdle`; the rest are left to the GC.
 */
export class ChunkPool {
  private readonly idle: Buffer[] = [];
  private readonly owned = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly chunkSize = DOWNLOAD_CHUNK,
    private readonly maxIdle = 40,
  ) {}

  take(): Buffer {
    const reused = this.idle.pop();
    if (reused) return reused;
    const chunk = Buffer.allocUnsafeSlow(this.chunkSize);
    this.owned.add(chunk.buffer);
    return chunk;
  }

  /** Takes back the chunk that `view` lies in, if it is one of this pool's; nothing of it may be used afterwards. */
  release(view: Buffer): void {
    const memory = view.buffer;
    if (!this.owned.has(memory) || this.idle.length >= this.maxIdle) return;
    if (this.idle.some((chunk) => chunk.buffer === memory)) return;
    this.idle.push(Buffer.from(memory, 0, this.chunkSize));
  }
}
