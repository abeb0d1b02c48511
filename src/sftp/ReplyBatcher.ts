import type { Writable } from 'node:stream';

/**
 * Gathers the replies finished in one turn of the event loop into one write.
 *
 * ssh2 sends every channel write as its own SSH packets, and a 32 KiB READ
 * reply is 13 bytes over the client's 32 KiB packet size: written alone, each
 * reply costs a full packet plus a 13-byte one, and a socket write and a MAC
 * for each — twice the packets OpenSSH sends, for the client to decrypt too.
 * Written together, replies fill whole packets. A batch is written at the end
 * of the current I/O phase (setImmediate), or at once when it reaches `maxBatch`.
 */
export class ReplyBatcher {
  private parts: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(
    private readonly writable: Writable,
    /** Called when the stream buffers more than its high-water mark: stop producing until 'drain'. */
    private readonly onBackpressure: () => void,
    private readonly maxBatch = 256 * 1024,
    /**
     * The byte stream under the channel, when there is one: corked while a batch is
     * written, so that the SSH packets the batch becomes leave in one writev rather
     * than one write syscall per packet.
     */
    private readonly socket?: Writable,
  ) {}

  /** Queues one reply, given as consecutive parts (header and data are not copied together first). */
  push(...parts: Buffer[]): void {
    for (const part of parts) {
      this.parts.push(part);
      this.bytes += part.length;
    }
    if (this.bytes >= this.maxBatch) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is queued now. */
  flush(): void {
    this.scheduled = false;
    if (this.parts.length === 0) return;
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    if (this.writable.writableEnded) return;
    this.socket?.cork();
    const accepted = this.writable.write(data);
    this.socket?.uncork();
    if (!accepted) this.onBackpressure();
  }
}
