import type { Writable } from 'node:stream';

export interface ReplyBatcherOptions {
  /**
   * The byte stream under the channel, when there is one: corked while a write
   * longer than one SSH packet is made, so that its packets leave in one writev
   * rather than one write syscall per packet.
   */
  socket?: Writable;
  /** The stream is done with a chunk when it calls the write's callback (see SessionTransport.copiesOnWrite). */
  reuseAfterWrite?: boolean;
}

/** Bytes queued before a batch is written at once. */
const MAX_BATCH = 256 * 1024;
/** Replies this long are written on their own: two SSH packets or more, nothing to gain from joining them. */
const WRITE_ALONE = 64 * 1024;
/**
 * Writes up to this long fit one SSH packet (OpenSSH's clients take 32 KiB
 * of data a packet), so ssh2 makes one socket write of them: nothing for a
 * cork to gather. A client with smaller packets only loses the gathering.
 */
const ONE_PACKET = 32 * 1024;

/**
 * Gathers the replies finished in one turn of the event loop into one write.
 *
 * ssh2 sends every channel write as its own SSH packets, and a 32 KiB READ
 * reply is 13 bytes over the client's 32 KiB packet size: written alone, each
 * reply costs a full packet plus a 13-byte one, and a socket write and a MAC
 * for each — twice the packets OpenSSH sends, for the client to decrypt too.
 * Written together, replies fill whole packets. A batch is written at the end
 * of the current I/O phase (setImmediate), or at once when it reaches
 * MAX_BATCH or its owner says so (the Session does for a reply the client is
 * likely waiting for: see Session.dispatch).
 *
 * A reply of WRITE_ALONE bytes or more is many packets already: it is
 * written as it is, after the batch queued before it, and never copied.
 */
export class ReplyBatcher {
  private parts: Buffer[] = [];
  private releases: (() => void)[] = [];
  private bytes = 0;
  /** The end-of-phase flush, while one is due; cancelled by a flush before it, so that it cannot cut a later batch short. */
  private scheduled?: NodeJS.Immediate;

  private readonly socket?: Writable;
  private readonly reuseAfterWrite: boolean;

  constructor(
    private readonly writable: Writable,
    /** Called when the stream buffers more than its high-water mark: stop producing until 'drain'. */
    private readonly onBackpressure: () => void,
    options: ReplyBatcherOptions = {},
  ) {
    this.socket = options.socket;
    this.reuseAfterWrite = options.reuseAfterWrite ?? false;
  }

  /**
   * Queues one reply packet. `release` is called once the packet's bytes are
   * no longer needed (copied into a batch, or taken by a stream that copies),
   * so that its buffer can be reused; otherwise it is never called. `now`
   * writes the batch at once instead of at the end of the phase.
   */
  push(packet: Buffer, release?: () => void, now = false): void {
    if (packet.length >= WRITE_ALONE) {
      this.flush();
      this.write(packet, release);
      return;
    }
    this.parts.push(packet);
    this.bytes += packet.length;
    if (release) this.releases.push(release);
    if (now || this.bytes >= MAX_BATCH) this.flush();
    else this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Writes what is queued now. */
  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.parts.length === 0) return;
    const parts = this.parts;
    const releases = this.releases;
    this.parts = [];
    this.releases = [];
    const bytes = this.bytes;
    this.bytes = 0;
    if (parts.length === 1) {
      this.write(parts[0]!, releases[0]);
      return;
    }
    const batch = Buffer.concat(parts, bytes);
    for (const release of releases) release();
    this.write(batch);
  }

  private write(data: Buffer, release?: () => void): void {
    if (this.writable.writableEnded || this.writable.destroyed) {
      release?.();
      return;
    }
    const socket = data.length > ONE_PACKET ? this.socket : undefined;
    socket?.cork();
    const accepted = release && this.reuseAfterWrite ? this.writable.write(data, () => release()) : this.writable.write(data);
    socket?.uncork();
    if (!accepted) this.onBackpressure();
  }
}
