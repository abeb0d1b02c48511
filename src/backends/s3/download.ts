import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
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
  private stream?: Readable;
  private abort?: AbortController;
  /** Bumped on every (re)start, so events of a replaced stream are ignored. */
  private generation = 0;
  private chunks: Buffer[] = [];
  /** Offset of the first buffered byte, and of the next byte the stream will deliver. */
  private bufferStart = 0;
  private streamPosition = 0;
  private servedEnd = 0;
  private waiters: Waiter[] = [];
  private closed = false;
  /** Single-range GETs of seeking reads, aborted on close. */
  private readonly rangeReads = new Set<AbortController>();

  constructor(private readonly object: ObjectVersion, private readonly readAhead: number) {}

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
    client.send(command, { abortSignal: abort.signal }).then(
      (response) => {
        const body = response.Body as Readable | undefined;
        if (generation !== this.generation) {
          body?.destroy();
          return;
        }
        if (!body) return this.fail(new Error('GetObject returned no body'));
        this.stream = body;
        body.on('data', (chunk: Buffer) => this.receive(generation, chunk));
        body.on('end', () => generation === this.generation && this.ended());
        body.on('error', (error) => generation === this.generation && this.fail(error));
      },
      (error: unknown) => generation === this.generation && this.fail(error),
    );
  }

  private receive(generation: number, chunk: Buffer): void {
    if (generation !== this.generation) return;
    this.chunks.push(chunk);
    this.streamPosition += chunk.length;
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

  /** Buffered bytes [start, end): a view of one chunk when they lie in one (chunks are never reused or changed), else a copy. */
  private slice(start: number, end: number): Buffer {
    const pieces: Buffer[] = [];
    this.forEachPiece(start, end, (piece) => pieces.push(piece));
    return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, end - start);
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
      this.bufferStart += this.chunks.shift()!.length;
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
    this.chunks = [];
    if (error) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter.reject(error);
    }
  }
}
