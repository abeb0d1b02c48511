import { PassThrough, type Readable } from 'node:stream';
import { FSError, StorageError, Unsupported } from '../../fs/errors.js';
import type { WebDAVConnection } from './connection.js';
import { fromRequestError } from './errors.js';

/** How one PUT is made. */
export interface UploadOptions {
  /** Bytes a write may land ahead of the data received so far (pipelined SFTP writes arrive out of order). */
  reorderWindow: number;
  /** Content that comes first (an append or resume keeps the existing bytes), and its length. */
  prefix?: { stream: () => Promise<Readable>; size: number };
  /** Send `If-None-Match: *`: fail (412, AlreadyExists) if the file appeared meanwhile. */
  exclusive?: boolean;
}

const ZEROS = Buffer.alloc(256 * 1024);

/**
 * One file written as ONE streaming PUT: the request starts at the first
 * write and its body is fed as writes arrive. Writes landing a little ahead
 * of the data sent so far wait in a reorder buffer bounded by
 * `reorderWindow`; a write further ahead, or one rewriting bytes already
 * sent, is refused with `Unsupported` and fails the whole upload (the PUT is
 * cancelled) so a corrupt file is never published. Holes still open at
 * `finish` are zero-filled, as sparse writes read back on POSIX.
 */
export class StreamingUpload {
  /** Bytes handed to the body so far (the next offset the body wants). */
  private cursor: number;
  private readonly pending = new Map<number, Buffer>();
  private pendingBytes = 0;
  private highest: number;
  private body?: PassThrough;
  private response?: Promise<void>;
  private readonly controller = new AbortController();
  private failure?: FSError;
  private failed: Promise<never>;
  private rejectFailed!: (err: FSError) => void;

  constructor(private readonly connection: WebDAVConnection, private readonly path: string, private readonly options: UploadOptions) {
    this.cursor = options.prefix?.size ?? 0;
    this.highest = this.cursor;
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => {});
  }

  /** The size the file will have: everything written so far, holes included. */
  get size(): number {
    return this.highest;
  }

  get started(): boolean {
    return this.body !== undefined;
  }

  async write(offset: number, data: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (data.length === 0) return;
    if (offset < this.cursor) {
      throw this.fail(`a write at offset ${offset} rewrites bytes already sent (up to ${this.cursor}); WebDAV files are written front to back in one PUT`);
    }
    if (offset + data.length - this.cursor > this.options.reorderWindow && offset !== this.cursor) {
      throw this.fail(
        `a write at offset ${offset} is more than ${this.options.reorderWindow} bytes ahead of the data received so far (${this.cursor}); ` +
          'random-access writes are not supported on WebDAV',
      );
    }
    this.start();
    this.highest = Math.max(this.highest, offset + data.length);
    if (offset > this.cursor) {
      if (this.pending.has(offset)) throw this.fail(`two writes at offset ${offset}`);
      this.pending.set(offset, Buffer.from(data));
      this.pendingBytes += data.length;
      return;
    }
    await this.send(data);
    await this.drainPending();
  }

  /** Sends the rest (holes zero-filled), ends the body, and waits for the server's answer. */
  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    this.start();
    await this.prefixDone;
    while (this.pending.size > 0) {
      const next = Math.min(...this.pending.keys());
      await this.sendZeros(next - this.cursor);
      await this.drainPending();
    }
    if (this.failure) throw this.failure;
    this.body!.end();
    await Promise.race([this.response!, this.failed]);
  }

  /** Cancels the PUT: the request is torn down mid-body, so the server sees an incomplete upload. */
  async abort(): Promise<void> {
    if (!this.failure) this.fail('the upload was abandoned', true);
    await this.response?.catch(() => {});
  }

  private start(): void {
    if (this.body) return;
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    this.body = body;
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
    if (this.options.exclusive) headers['If-None-Match'] = '*';
    const prefix = this.options.prefix;
    const feedPrefix = prefix
      ? prefix.stream().then(
          (stream) =>
            new Promise<void>((resolve, reject) => {
              stream.on('error', reject);
              stream.on('end', resolve);
              stream.pipe(body, { end: false });
            }),
        )
      : Promise.resolve();
    this.prefixDone = feedPrefix.catch((err: unknown) => {
      this.fail(`reading the existing content failed: ${(err as Error).message}`);
    });
    this.response = this.connection
      .request('PUT', this.path, { headers, body, signal: this.controller.signal })
      .then(async (response) => {
        await response.text().catch(() => '');
      })
      .catch((err: unknown) => {
        const error = this.failure ?? fromRequestError(err, this.path);
        this.failure = error;
        this.rejectFailed(error);
        body.destroy();
        throw error;
      });
    this.response.catch(() => {});
  }

  private prefixDone: Promise<void> = Promise.resolve();

  private async send(data: Buffer): Promise<void> {
    await this.prefixDone;
    if (this.failure) throw this.failure;
    this.cursor += data.length;
    if (!this.body!.write(data)) {
      await Promise.race([new Promise((resolve) => this.body!.once('drain', resolve)), this.failed]);
    }
  }

  private async sendZeros(count: number): Promise<void> {
    for (let left = count; left > 0; left -= ZEROS.length) await this.send(ZEROS.subarray(0, Math.min(left, ZEROS.length)));
  }

  private async drainPending(): Promise<void> {
    for (let next = this.pending.get(this.cursor); next !== undefined; next = this.pending.get(this.cursor)) {
      this.pending.delete(this.cursor);
      this.pendingBytes -= next.length;
      await this.send(next);
    }
  }

  /** Fails the upload for good: later writes and finish report `message`; the PUT is cancelled. */
  private fail(message: string, abandoned = false): FSError {
    const error = abandoned ? new StorageError(this.path, { message: `Upload ${message}` }) : new Unsupported(this.path, { message: `Unsupported write pattern: ${message}` });
    this.failure ??= error;
    this.rejectFailed(this.failure);
    this.pending.clear();
    this.controller.abort();
    this.body?.destroy();
    return this.failure;
  }
}
