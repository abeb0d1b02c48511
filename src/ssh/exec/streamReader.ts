import type { Readable } from 'node:stream';

/** Buffered input past which the stream is paused (SSH flow control then holds the client back). */
const PAUSE_AT = 1024 * 1024;

/**
 * Reads lines, single bytes and counted runs of bytes from a stream as they
 * arrive, for a command that converses over its channel (scp). Listeners
 * rather than async iteration, which would destroy the stream at its end:
 * the channel still carries the command's replies. `detach` when done.
 */
export class StreamReader {
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;
  private wake?: () => void;

  constructor(private readonly stream: Readable) {
    stream.on('data', this.onData).once('end', this.onEnd).once('close', this.onEnd);
    stream.resume();
  }

  /** The next byte; undefined at the end of the input. */
  async byte(): Promise<number | undefined> {
    while (this.pending.length === 0) if (!(await this.more())) return undefined;
    return this.take(1)[0];
  }

  /** The next line without its newline; undefined at the end of the input. A longer line than `maxLength` throws. */
  async line(maxLength = 4096): Promise<string | undefined> {
    for (;;) {
      const end = this.pending.indexOf(0x0a);
      if (end >= 0) return this.take(end + 1).toString('utf8', 0, end);
      if (this.pending.length > maxLength) throw new Error(`protocol line longer than ${maxLength} bytes`);
      if (!(await this.more())) {
        if (this.pending.length > 0) throw new Error('input ended within a line');
        return undefined;
      }
    }
  }

  /** Exactly `count` bytes, in the chunks they arrive in; throws if the input ends first. */
  async *bytes(count: number): AsyncGenerator<Buffer> {
    for (let remaining = count; remaining > 0; ) {
      while (this.pending.length === 0) if (!(await this.more())) throw new Error(`input ended ${remaining} bytes short`);
      const chunk = this.take(Math.min(remaining, this.pending.length));
      remaining -= chunk.length;
      yield chunk;
    }
  }

  /** Stops listening, and leaves the stream paused. */
  detach(): void {
    this.stream.off('data', this.onData).off('end', this.onEnd).off('close', this.onEnd);
    this.stream.pause();
  }

  private readonly onData = (chunk: Buffer) => {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.pending.length >= PAUSE_AT) this.stream.pause();
    this.notify();
  };

  private readonly onEnd = () => {
    this.ended = true;
    this.notify();
  };

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Waits for more input; false once the input has ended. */
  private async more(): Promise<boolean> {
    if (this.ended) return false;
    this.stream.resume();
    await new Promise<void>((resolve) => (this.wake = resolve));
    return true;
  }

  private take(length: number): Buffer {
    const taken = this.pending.subarray(0, length);
    this.pending = this.pending.subarray(length);
    return taken;
  }
}
