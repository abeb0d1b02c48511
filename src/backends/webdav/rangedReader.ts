import type { Readable } from 'node:stream';
import type { WebDAVConnection } from './connection.js';
import { HttpStatusError, fromRequestError } from './errors.js';

const MiB = 1024 * 1024;
/** First ranged GET of a fresh position: small, as the access may be random. */
const FIRST_WINDOW = 1 * MiB;
/** Each sequential continuation doubles the range, up to this. */
const MAX_WINDOW = 64 * MiB;
/** Bytes kept behind the latest read, so slightly reordered pipelined reads need no new request. */
const KEEP_BEHIND = 1 * MiB;
/** A read this far ahead of the stream is reached by reading on rather than by a new request. */
const SKIP_AHEAD = 1 * MiB;

/**
 * Reads one remote file by ranged GETs, with read-ahead for sequential
 * access: a read continuing where the previous ones left off is served from
 * the open response stream, and each new range is twice the last (1 MiB up to
 * 64 MiB), so a whole-file download costs a handful of requests, while a
 * random read costs one small one. Reads are served one at a time in arrival
 * order (SFTP clients pipeline them in ascending order).
 */
export class RangedReader {
  private stream?: AsyncIterator<Buffer>;
  private body?: Readable;
  /** Bytes received but not yet dropped, starting at `bufferStart`. */
  private buffer: Buffer = Buffer.alloc(0);
  private bufferStart = 0;
  /** Exclusive end of the range the open stream delivers. */
  private rangeEnd = 0;
  // Halved: the first continuation (the first read at 0) doubles it back to FIRST_WINDOW.
  private window = FIRST_WINDOW / 2;
  /** End of file: the size at open, lowered if the file turns out shorter. */
  private eof: number;
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * `size` is the file's size when it was opened: reads stop there (a handle
   * reads a snapshot of the length), which spares a request past the end and
   * keeps clear of servers that mishandle ranges beyond it or on empty files.
   */
  constructor(private readonly connection: WebDAVConnection, private readonly path: string, size: number) {
    this.eof = size;
  }

  read(offset: number, length: number): Promise<Buffer> {
    const result = this.queue.then(() => this.readNow(offset, length));
    this.queue = result.catch(() => {});
    return result;
  }

  /** Drops the open response, if any. */
  close(): void {
    this.body?.destroy();
    this.stream = undefined;
    this.body = undefined;
  }

  private get streamPosition(): number {
    return this.bufferStart + this.buffer.length;
  }

  private async readNow(offset: number, length: number): Promise<Buffer> {
    if (length <= 0 || offset >= this.eof) return Buffer.alloc(0);
    const wanted = Math.min(offset + length, this.eof);
    const reachable = offset >= this.bufferStart && offset <= this.streamPosition + SKIP_AHEAD;
    if (!reachable || (this.stream === undefined && offset !== this.streamPosition)) {
      await this.openRange(offset, FIRST_WINDOW);
    }
    while (this.streamPosition < wanted) {
      if (this.stream === undefined) {
        if (this.streamPosition >= this.eof) break;
        // The previous range ended where this read goes on: sequential, so ask for more at once.
        this.window = Math.min(this.window * 2, MAX_WINDOW);
        await this.openRange(this.streamPosition, this.window, true);
        continue;
      }
      const next = await this.stream.next().catch((err: unknown) => {
        throw fromRequestError(err, this.path);
      });
      if (next.done) {
        if (this.streamPosition < this.rangeEnd) this.eof = this.streamPosition;
        this.stream = undefined;
        this.body = undefined;
        continue;
      }
      this.buffer = this.buffer.length === 0 ? next.value : Buffer.concat([this.buffer, next.value]);
    }
    const start = offset - this.bufferStart;
    const end = Math.min(wanted, this.streamPosition) - this.bufferStart;
    const result = Buffer.from(this.buffer.subarray(start, Math.max(start, end)));
    this.trim(offset + result.length);
    return result;
  }

  private trim(consumedTo: number): void {
    const keepFrom = consumedTo - KEEP_BEHIND;
    if (keepFrom > this.bufferStart) {
      this.buffer = this.buffer.subarray(keepFrom - this.bufferStart);
      this.bufferStart = keepFrom;
    }
  }

  private async openRange(offset: number, size: number, keepBuffer = false): Promise<void> {
    this.close();
    if (!keepBuffer) {
      this.buffer = Buffer.alloc(0);
      this.bufferStart = offset;
      this.window = size;
    }
    const last = Math.min(offset + size, this.eof) - 1;
    let response;
    try {
      response = await this.connection.request('GET', this.path, { headers: { Range: `bytes=${offset}-${last}` } });
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 416) {
        // Range Not Satisfiable: the offset is at or past the end.
        this.eof = offset;
        return;
      }
      throw fromRequestError(err, this.path);
    }
    const body = response.body;
    if (!body) {
      this.eof = offset;
      return;
    }
    if (response.status === 200) {
      // The server ignored Range and sends the whole file: skip to the offset.
      this.body = body;
      this.stream = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      this.rangeEnd = this.eof;
      await this.skipTo(offset);
      return;
    }
    const range = /bytes\s+(\d+)-(\d+)\/(\d+|\*)/.exec(response.headers.get('content-range') ?? '');
    if (range && Number(range[1]) !== offset) {
      // A server that clamps a range starting past the end: the file shrank below the offset.
      body.destroy();
      this.eof = Math.min(this.eof, offset);
      return;
    }
    if (range && range[3] !== '*') this.eof = Math.min(this.eof, Number(range[3]));
    this.body = body;
    this.stream = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    this.rangeEnd = last + 1;
  }

  private async skipTo(offset: number): Promise<void> {
    let position = 0;
    while (position < offset) {
      const next = await this.stream!.next();
      if (next.done) {
        this.eof = position;
        this.stream = undefined;
        break;
      }
      const chunk = next.value;
      if (position + chunk.length > offset) {
        this.buffer = chunk.subarray(offset - position);
        this.bufferStart = offset;
        return;
      }
      position += chunk.length;
    }
    this.buffer = Buffer.alloc(0);
    this.bufferStart = Math.min(position, offset);
  }
}
