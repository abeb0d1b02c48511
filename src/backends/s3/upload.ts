import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { FSError, StorageError, Unsupported } from '../../fs/errors.js';
import type { Logger } from '../../logger.js';
import type { ObjectMetadata } from './attributes.js';
import { toFSError } from './errors.js';

/** S3 allows at most this many parts in one multipart upload. */
const MAX_PARTS = 10_000;
/** Parts between doublings of the part size, so a huge file fits in MAX_PARTS (8 MiB: ~500 GiB). */
const PARTS_PER_SIZE_STEP = 2_000;
/** Bytes asked of the base object per read while copying it into the upload. */
const BASE_CHUNK = 1024 * 1024;

/** Per-object settings every write carries (storage class, encryption). */
export type ObjectParameters = Pick<PutObjectCommandInput, 'StorageClass' | 'ServerSideEncryption' | 'SSEKMSKeyId'>;

/** What an upload writes to and how. */
export interface UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
  /** The FS path, for errors and logs. */
  path: string;
  metadata: ObjectMetadata;
  /** Extra PutObject/CreateMultipartUpload parameters (storage class, encryption). */
  objectParameters: ObjectParameters;
  partSize: number;
  concurrency: number;
  /** How far ahead of the next expected byte a write may land and be held back. */
  reorderWindow: number;
  logger: Logger;
}

/**
 * The content an upload starts from: an existing object's first `length`
 * bytes (opened without truncate, or being truncated), read on demand for the
 * ranges no write covers.
 */
export interface UploadBase {
  length: number;
  read(offset: number, length: number): Promise<Buffer>;
}

/**
 * A streamed upload of one object. Writes are expected in order; those that
 * land a little ahead (pipelined SFTP writes) wait in a bounded reorder
 * window, a rewrite of bytes not yet sent patches them, and anything else is
 * refused (Unsupported) and poisons the upload so a corrupt object can never
 * be published. Parts go out `concurrency` at a time; a writer waits when all
 * are busy, so memory stays near partSize x (concurrency + 1) + window.
 *
 * Nothing is visible until `complete()`: a small object is one PutObject, a
 * large one a multipart upload completed at the end. `abort()` discards it all
 * and leaves whatever object had the key untouched.
 */
export class ObjectUpload {
  /** Bytes appended to the ordered stream so far (sent or in the current part). */
  private cursor = 0;
  private logicalSize: number;
  private readonly pending = new Map<number, Buffer>();
  private part?: Buffer;
  /**
   * Part buffers whose UploadPart succeeded, for the next parts: a fresh 8 MiB buffer per part
   * costs page faults on every first touch, and V8 frees the old ones only at its next GC.
   */
  private readonly freeParts: Buffer[] = [];
  private partFill = 0;
  private partCount = 0;
  private uploadId?: string;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly completedParts: CompletedPart[] = [];
  private failure?: FSError;
  private finished = false;
  /** Set when metadata changed after the multipart upload was created. */
  private metadataChangedLate = false;

  constructor(private readonly target: UploadTarget, private readonly base?: UploadBase) {
    this.logicalSize = base?.length ?? 0;
  }

  /** The size the object will have. */
  get size(): number {
    return this.logicalSize;
  }

  /** True once any byte has been written or copied (a handle can no longer read through). */
  get started(): boolean {
    return this.cursor > 0 || this.pending.size > 0;
  }

  /** The error that broke this upload, if any (later writes and close report it). */
  get error(): FSError | undefined {
    return this.failure;
  }

  /** Metadata for the object; after the multipart upload began it is applied by a copy at the end. */
  get metadata(): ObjectMetadata {
    return this.target.metadata;
  }

  setMetadata(metadata: ObjectMetadata): void {
    this.target.metadata = metadata;
    if (this.uploadId !== undefined) this.metadataChangedLate = true;
  }

  /** True when the caller must store metadata itself after `complete()`. */
  get needsMetadataCopy(): boolean {
    return this.metadataChangedLate;
  }

  /** Makes the object end at `size`: shorter cuts the base, longer zero-fills. Only before any write. */
  truncate(size: number): void {
    if (size === this.logicalSize) return;
    if (this.started) throw new Unsupported(this.target.path, { message: 'Cannot change the size of an S3 object while writing it' });
    if (this.base) this.base.length = Math.min(this.base.length, size);
    this.logicalSize = size;
  }

  async write(offset: number, data: Buffer): Promise<void> {
    this.throwIfBroken();
    if (data.length === 0) return;
    const end = offset + data.length;
    this.logicalSize = Math.max(this.logicalSize, end);
    if (offset < this.cursor) {
      const partStart = this.cursor - this.partFill;
      if (offset < partStart || !this.part) {
        return this.refuse(`a write at offset ${offset} is behind data already uploaded (up to ${partStart}); S3 objects are written front to back`);
      }
      // A rewrite of bytes still in the unsent part (a client retrying): patch them in place.
      const overlap = Math.min(end, this.cursor) - offset;
      data.copy(this.part, offset - partStart, 0, overlap);
      if (end <= this.cursor) return;
      offset = this.cursor;
      data = data.subarray(overlap);
    }
    if (this.base && this.cursor < this.base.length && offset >= this.base.length) {
      // Appending to (or resuming) an existing object: its content comes first.
      await this.fillTo(this.base.length);
    }
    if (offset === this.cursor) {
      await this.append(data);
      await this.drainPending();
      return;
    }
    if (end - this.cursor <= this.target.reorderWindow) {
      this.pending.set(offset, Buffer.from(data));
      return;
    }
    if (this.base && offset <= this.base.length) {
      // Resuming or appending past existing content: copy the base up to here.
      await this.fillTo(offset);
      await this.append(data);
      await this.drainPending();
      return;
    }
    return this.refuse(
      `a write at offset ${offset} is more than ${this.target.reorderWindow} bytes ahead of the data received so far (${this.cursor}); ` +
        'S3 uploads take sequential writes only',
    );
  }

  /** Publishes the object: fills holes, sends the last part, completes. On failure nothing is published. */
  async complete(): Promise<void> {
    try {
      this.throwIfBroken();
      await this.fillTo(this.logicalSize);
      if (this.uploadId === undefined) {
        const body = this.part ? this.part.subarray(0, this.partFill) : Buffer.alloc(0);
        await this.target.client.send(new PutObjectCommand({ ...this.objectParams(), Body: body, ContentLength: body.length }));
      } else {
        if (this.partFill > 0) await this.sendPart();
        await Promise.all(this.inFlight);
        this.throwIfBroken();
        const parts = [...this.completedParts].sort((a, b) => a.PartNumber! - b.PartNumber!);
        await this.target.client.send(
          new CompleteMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: this.uploadId, MultipartUpload: { Parts: parts } }),
        );
      }
      this.finished = true;
      this.part = undefined;
      this.freeParts.length = 0;
    } catch (error) {
      this.fail(error);
      await this.abort();
      throw this.failure!;
    }
  }

  /** Discards the upload: parts in flight finish or fail, then the multipart upload is aborted. */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.failure ??= new StorageError(this.target.path, { message: 'Upload aborted' });
    this.pending.clear();
    this.part = undefined;
    this.freeParts.length = 0;
    await Promise.all(this.inFlight);
    if (this.uploadId === undefined) return;
    try {
      await this.target.client.send(new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: this.uploadId }));
    } catch (error) {
      // Some S3-compatible servers (s3rver) lack it; an incomplete upload is invisible anyway
      // (a bucket lifecycle rule for incomplete uploads reclaims its space).
      this.target.logger.warn('could not abort an S3 multipart upload', { key: this.target.key, uploadId: this.uploadId, error: toFSError(error).message });
    }
  }

  private refuse(message: string): never {
    const error = new Unsupported(this.target.path, { message: `Unsupported write pattern: ${message}` });
    this.fail(error);
    throw error;
  }

  private fail(error: unknown): void {
    this.failure ??= toFSError(error, this.target.path);
  }

  private throwIfBroken(): void {
    if (this.failure) throw this.failure;
    if (this.finished) throw new StorageError(this.target.path, { message: 'Upload already finished' });
  }

  /** Appends bytes at the cursor, sending each part as it fills (waiting while all slots are busy). */
  private async append(data: Buffer): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      const partSize = this.currentPartSize();
      this.part ??= this.takePartBuffer(partSize);
      const taken = Math.min(partSize - this.partFill, data.length - offset);
      data.copy(this.part, this.partFill, offset, offset + taken);
      this.partFill += taken;
      this.cursor += taken;
      offset += taken;
      if (this.partFill === partSize) await this.sendPart();
    }
  }

  /** Moves held-back writes that now start at or before the cursor into the stream. */
  private async drainPending(): Promise<void> {
    while (this.pending.size > 0) {
      let next = this.pending.get(this.cursor) !== undefined ? this.cursor : Infinity;
      if (next === Infinity) for (const offset of this.pending.keys()) if (offset < next) next = offset;
      if (next > this.cursor) return;
      const data = this.pending.get(next)!;
      this.pending.delete(next);
      if (next + data.length > this.cursor) await this.append(data.subarray(this.cursor - next));
      this.throwIfBroken();
    }
  }

  /** Advances the cursor to `target`, filling gaps between held-back writes from the base, or with zeros past it. */
  private async fillTo(target: number): Promise<void> {
    await this.drainPending();
    while (this.cursor < target) {
      let nextWrite = Infinity;
      for (const offset of this.pending.keys()) if (offset < nextWrite) nextWrite = offset;
      const gapEnd = Math.min(target, nextWrite);
      while (this.cursor < gapEnd) {
        const length = Math.min(BASE_CHUNK, gapEnd - this.cursor);
        await this.append(await this.baseBytes(this.cursor, length));
        this.throwIfBroken();
      }
      await this.drainPending();
    }
  }

  private async baseBytes(offset: number, length: number): Promise<Buffer> {
    const baseLength = this.base?.length ?? 0;
    if (!this.base || offset >= baseLength) return Buffer.alloc(length);
    const wanted = Math.min(length, baseLength - offset);
    const data = await this.base.read(offset, wanted);
    if (data.length === 0) throw new StorageError(this.target.path, { message: 'The existing object ended before its recorded size' });
    return data;
  }

  private takePartBuffer(size: number): Buffer {
    for (let free = this.freeParts.pop(); free; free = this.freeParts.pop()) if (free.length === size) return free;
    return Buffer.allocUnsafe(size);
  }

  private currentPartSize(): number {
    return this.target.partSize * 2 ** Math.floor(this.partCount / PARTS_PER_SIZE_STEP);
  }

  private async sendPart(): Promise<void> {
    if (this.uploadId === undefined) {
      const created = await this.target.client.send(new CreateMultipartUploadCommand(this.objectParams()));
      this.uploadId = created.UploadId;
      this.throwIfBroken();
    }
    while (this.inFlight.size >= this.target.concurrency) await Promise.race(this.inFlight);
    this.throwIfBroken();
    if (this.partCount >= MAX_PARTS) this.refuse(`the object would need more than ${MAX_PARTS} parts`);
    const partNumber = ++this.partCount;
    const buffer = this.part!;
    const body = buffer.subarray(0, this.partFill);
    this.part = undefined;
    this.partFill = 0;
    const upload = this.target.client
      .send(new UploadPartCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: this.uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }))
      .then(
        (result) => {
          this.completedParts.push({ PartNumber: partNumber, ETag: result.ETag });
          // The part was stored, so every byte of it was sent: the buffer is free. A failed part's
          // buffer is not reused (a write of it may still be under way); the upload is over anyway.
          if (!this.finished) this.freeParts.push(buffer);
        },
        (error: unknown) => this.fail(error),
      )
      .finally(() => this.inFlight.delete(upload));
    this.inFlight.add(upload);
  }

  private objectParams() {
    return { Bucket: this.target.bucket, Key: this.target.key, Metadata: this.target.metadata, ...this.target.objectParameters };
  }

}
