import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ChunkPool } from './chunkPool.js';
import { DIRECT_BODY, DirectBody, type BodyControl } from './directGet.js';
import { toFSError } from './errors.js';

/** Data kept behind the furthest read served, for a client re-reading a little (a short reply's tail). */
const KEEP_BEHIND = 1024 * 1024;

/** Which object a reader streams: the ETag pins the version, so a replaced object fails instead of mixing. */
export interface ObjectVersion {
  client: S3Client;
  bucket: string;
  key: string;
  size: number;
  etag?: string;
  /** The FS path, for error messages. */
  path: string;
}

interface Waiter {
  offset: number;
  end: number;
  /** Answers the read with the bytes from `offset` to `end` (earlier than asked at the object's end), while they are buffered. */
  deliver(end: number): void;
  reject(error: Error): void;
}

/**
 * Serves positioned reads of one object from a single streaming GET. SFTP
 * clients read sequentially with many requests in flight, so one open-ended
 * ranged GET is read ahead (up to `readAhead` bytes beyond the furthest read
 * served, then paused) and each read is cut from what has arrived. A read
 * behind what is kept, or more than `readAhead` beyond the furthest byte
 * already streamed or awaited, is a seek: with no other read waiting the GET
 * is re-issued from there; while others wait on the stream, the seeking read
 * gets a GET of its own range, so neither side throws the other's data away.
 * Reads at or past the end give an empty buffer (EOF).
 */
export class ObjectReader {
  /** The streaming GET's body, while one is open. */
  private stream?: BodyControl;
  private abort?: AbortController;
  /** Bumped on every (re)start, so events of a replaced stream are ignored. */
  private generation = 0;
  /** What has arrived and is kept, in order: views of pooled chunks (a DirectBody) or the body's own Buffers. */
  private chunks: Buffer[] = [];
  /** The pooled chunk a DirectBody's bytes are being copied into, and how much of it is used. */
  private filling?: Buffer;
  private filled = 0;
  /** Offset of the first buffered byte, and of the next byte the stream will deliver. */
  private bufferStart = 0;
  private streamPosition = 0;
  private servedEnd = 0;
  private waiters: Waiter[] = [];
  private closed = false;
  /** Single-range GETs of seeking reads, aborted on close. */
  private readonly rangeReads = new Set<AbortController>();

  constructor(
    private readonly object: ObjectVersion,
    private readonly readAhead: number,
    private readonly pool: ChunkPool = new ChunkPool(),
  ) {}

  get size(): number {
    return this.object.size;
  }

  read(offset: number, length: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('reader closed'));
    const end = Math.min(offset + length, this.object.size);
    if (offset >= end) return Promise.resolve(Buffer.alloc(0));
    if (this.seeks(offset, end)) return this.readRange(offset, end);
    return new Promise<Buffer>((resolve, reject) => this.wait({ offset, end, deliver: (upTo) => resolve(this.slice(offset, upTo)), reject }));
  }

  /** As `read` of `target.length` bytes, copied straight into `target` from what the stream delivered; resolves to the count. */
  readInto(target: Buffer, offset: number): Promise<number> {
    if (this.closed) return Promise.reject(new Error('reader closed'));
    const end = Math.min(offset + target.length, this.object.size);
    if (offset >= end) return Promise.resolve(0);
    if (this.seeks(offset, end)) return this.readRange(offset, end).then((data) => data.copy(target));
    return new Promise<number>((resolve, reject) => this.wait({ offset, end, deliver: (upTo) => resolve(this.copyInto(target, offset, upTo)), reject }));
  }

  /** Stops the stream and any single-range GETs; pending reads fail. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const abort of this.rangeReads) abort.abort();
    this.stop(new Error('reader closed'));
  }

  private wait(waiter: Waiter): void {
    this.waiters.push(waiter);
    this.serve();
    if (this.waiters.length > 0) this.stream?.resume();
  }

  /**
   * Decides whether [offset, end) is a seek: behind what is kept, or far ahead of everything streamed
   * or awaited. With no read waiting, the stream restarts there (false: wait on it); while others
   * wait, restarting would throw away the bytes they wait for (a client with more read-ahead than
   * ours restarted the GET on every READ that way), so the read is a range of its own (true).
   */
  private seeks(offset: number, end: number): boolean {
    let seek = offset < this.bufferStart;
    if (!seek && this.stream === undefined && this.abort === undefined) seek = end > this.streamPosition;
    else if (!seek) {
      let frontier = this.streamPosition;
      for (const waiter of this.waiters) if (waiter.end > frontier) frontier = waiter.end;
      seek = offset > frontier + this.readAhead;
    }
    if (!seek) return false;
    if (this.waiters.length > 0) return true;
    this.restart(offset);
    return false;
  }

  /** One ranged GET for one read, outside the stream. */
  private async readRange(offset: number, end: number): Promise<Buffer> {
    const abort = new AbortController();
    this.rangeReads.add(abort);
    const { client, bucket, key, etag } = this.object;
    try {
      const command = new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${offset}-${end - 1}`, IfMatch: etag });
      const response = await client.send(command, { abortSignal: abort.signal });
      const chunks: Buffer[] = [];
      for await (const chunk of response.Body as Readable) chunks.push(chunk as Buffer);
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    } catch (error) {
      throw toFSError(error, this.object.path);
    } finally {
      this.rangeReads.delete(abort);
    }
  }

  private restart(offset: number): void {
    this.stop(undefined);
    const generation = ++this.generation;
    this.bufferStart = this.streamPosition = offset;
    const abort = new AbortController();
    this.abort = abort;
    const { client, bucket, key, etag, size } = this.object;
    const command = new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${offset}-${size - 1}`, IfMatch: etag });
    client.send(command, { abortSignal: abort.signal, [DIRECT_BODY]: true } as { abortSignal: AbortSignal }).then(
      (response) => {
        const body = response.Body as Readable | undefined;
        if (generation !== this.generation) {
          body?.destroy();
          return;
        }
        if (!body) return this.fail(new Error('GetObject returned no body'));
        const current = () => generation === this.generation;
        if (body instanceof DirectBody) {
          this.stream = body.control;
          body.deliverTo({ data: (view) => current() && this.receiveCopy(view), end: () => current() && this.ended(), error: (error) => current() && this.fail(error) });
          return;
        }
        // A client of the caller's own, without DirectBodyHandler: a plain Readable.
        this.stream = body;
        body.on('data', (chunk: Buffer) => current() && this.receive(chunk));
        body.on('end', () => current() && this.ended());
        body.on('error', (error) => current() && this.fail(error));
      },
      (error: unknown) => generation === this.generation && this.fail(error),
    );
  }

  /** Keeps a view of the receive buffer by copying it into pooled chunks, extending the last one kept where it continues it. */
  private receiveCopy(view: Buffer): void {
    let copied = 0;
    while (copied < view.length) {
      if (!this.filling) {
        this.filling = this.pool.take();
        this.filled = 0;
      }
      const start = this.filled;
      this.filled += view.copy(this.filling, start, copied);
      copied += this.filled - start;
      const last = this.chunks.at(-1);
      if (start > 0 && last?.buffer === this.filling.buffer) this.chunks[this.chunks.length - 1] = this.filling.subarray(last.byteOffset, this.filled);
      else this.chunks.push(this.filling.subarray(start, this.filled));
      if (this.filled === this.filling.length) this.filling = undefined;
    }
    this.received(view.length);
  }

  private receive(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.received(chunk.length);
  }

  private received(bytes: number): void {
    this.streamPosition += bytes;
    this.serve();
    if (this.streamPosition - this.servedEnd > this.readAhead && this.waiters.length === 0) this.stream?.pause();
  }

  /** Answers every waiter whose bytes have arrived, then drops what is far enough behind. */
  private serve(): void {
    const ready = this.waiters.filter((waiter) => waiter.end <= this.streamPosition);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => waiter.end > this.streamPosition);
    for (const waiter of ready) {
      waiter.deliver(waiter.end);
      this.servedEnd = Math.max(this.servedEnd, waiter.end);
    }
    this.trim();
    if (this.streamPosition - this.servedEnd <= this.readAhead) this.stream?.resume();
  }

  /** A copy of the buffered bytes [start, end): pooled chunks are reused once served. */
  private slice(start: number, end: number): Buffer {
    const copy = Buffer.allocUnsafe(end - start);
    this.copyInto(copy, start, end);
    return copy;
  }

  private copyInto(target: Buffer, start: number, end: number): number {
    let copied = 0;
    this.forEachPiece(start, end, (piece) => (copied += piece.copy(target, copied)));
    return copied;
  }

  private forEachPiece(start: number, end: number, use: (piece: Buffer) => void): void {
    let position = this.bufferStart;
    for (const chunk of this.chunks) {
      const chunkEnd = position + chunk.length;
      if (chunkEnd > start) use(chunk.subarray(Math.max(0, start - position), Math.min(chunk.length, end - position)));
      position = chunkEnd;
      if (position >= end) break;
    }
  }

  private trim(): void {
    const keepFrom = Math.min(this.servedEnd - KEEP_BEHIND, ...this.waiters.map((waiter) => waiter.offset));
    while (this.chunks.length > 1 && this.bufferStart + this.chunks[0]!.length <= keepFrom) {
      const dropped = this.chunks.shift()!;
      this.bufferStart += dropped.length;
      // A pooled chunk is kept as one view, extended as it fills: one that reaches the chunk's end is full and done with.
      if (dropped.byteOffset + dropped.length === this.pool.chunkSize) this.pool.release(dropped);
    }
  }

  private ended(): void {
    // The object was shorter than its HEAD said (replaced without a new ETag check): short reads.
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.deliver(Math.max(waiter.offset, Math.min(waiter.end, this.streamPosition)));
    this.stream = undefined;
    this.abort = undefined;
  }

  private fail(error: unknown): void {
    this.stop(toFSError(error, this.object.path));
  }

  /** Ends the current stream; with an error, pending reads fail with it. */
  private stop(error: Error | undefined): void {
    this.generation++;
    this.abort?.abort();
    this.stream?.destroy();
    this.stream = undefined;
    this.abort = undefined;
    // The chunk being filled is among them: its view is the last one kept.
    for (const chunk of this.chunks) this.pool.release(chunk);
    this.chunks = [];
    this.filling = undefined;
    if (error) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter.reject(error);
    }
  }
}
