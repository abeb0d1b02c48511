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
  resolve(data: Buffer): void;
  reject(error: Error): void;
}

/**
 * Serves positioned reads of one object from a single streaming GET. SFTP
 * clients read sequentially with many requests in flight, so one open-ended
 * ranged GET is read ahead (up to `readAhead` bytes beyond the furthest read
 * served, then paused) and each read is cut from what has arrived. A read
 * behind what is kept, or too far ahead, is a seek: the GET is re-issued
 * from there. Reads at or past the end give an empty buffer (EOF).
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

  constructor(private readonly object: ObjectVersion, private readonly readAhead: number) {}

  get size(): number {
    return this.object.size;
  }

  read(offset: number, length: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('reader closed'));
    const end = Math.min(offset + length, this.object.size);
    if (offset >= end) return Promise.resolve(Buffer.alloc(0));
    const streaming = this.stream !== undefined || this.abort !== undefined;
    if (offset < this.bufferStart || offset > this.streamPosition + this.readAhead || (!streaming && end > this.streamPosition)) {
      // Reads still waiting must be served by the new stream too.
      this.restart(Math.min(offset, ...this.waiters.map((waiter) => waiter.offset)));
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.waiters.push({ offset, end, resolve, reject });
      this.serve();
      if (this.waiters.length > 0) this.stream?.resume();
    });
  }

  /** Stops the stream; pending reads fail. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop(new Error('reader closed'));
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
      waiter.resolve(this.slice(waiter.offset, waiter.end));
      this.servedEnd = Math.max(this.servedEnd, waiter.end);
    }
    this.trim();
    if (this.streamPosition - this.servedEnd <= this.readAhead) this.stream?.resume();
  }

  private slice(start: number, end: number): Buffer {
    const pieces: Buffer[] = [];
    let position = this.bufferStart;
    for (const chunk of this.chunks) {
      const chunkEnd = position + chunk.length;
      if (chunkEnd > start && position < end) pieces.push(chunk.subarray(Math.max(0, start - position), Math.min(chunk.length, end - position)));
      position = chunkEnd;
      if (position >= end) break;
    }
    return pieces.length === 1 ? Buffer.from(pieces[0]!) : Buffer.concat(pieces);
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
    for (const waiter of waiters) waiter.resolve(waiter.offset < this.streamPosition ? this.slice(waiter.offset, this.streamPosition) : Buffer.alloc(0));
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
