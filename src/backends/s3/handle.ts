import { InvalidArgument, PermissionDenied, Unsupported } from '../../fs/errors.js';
import type { FileHandle, OpenFlags, SetAttributes, Stats } from '../../fs/types.js';
import { applyAttributes, changesMetadata, statsOf, type AttributeDefaults, type ObjectMetadata } from './attributes.js';
import type { Bucket, HeadResult } from './bucket.js';
import type { ObjectReader } from './download.js';
import type { ObjectUpload, UploadBase } from './upload.js';

/** What a handle needs from its S3FS. */
export interface HandleContext {
  bucket: Bucket;
  defaults: AttributeDefaults;
  makeReader(key: string, path: string, head: HeadResult): ObjectReader;
  makeUpload(key: string, path: string, metadata: ObjectMetadata, base?: UploadBase): ObjectUpload;
  stat(path: string): Promise<Stats>;
  setstat(path: string, attrs: SetAttributes): Promise<void>;
}

/**
 * An open S3 object. Reads stream from the object as it was at open. Writes
 * build a new object in an ObjectUpload, published by close (or discarded by
 * abort); until then the old object, if any, stays as it was. A handle that
 * writes nothing (opened without create-of-a-missing-file or truncate)
 * changes nothing at close.
 */
export class S3FileHandle implements FileHandle {
  private upload?: ObjectUpload;
  private base?: UploadBase;
  private reader?: ObjectReader;

  constructor(
    private readonly context: HandleContext,
    private readonly path: string,
    private readonly key: string,
    private readonly flags: OpenFlags,
    /** The object as it was at open; undefined for a file being created. */
    private readonly existing: HeadResult | undefined,
    createAttrs?: SetAttributes,
  ) {
    const truncate = existing !== undefined && flags.write && flags.truncate;
    if (!existing || truncate) this.startUpload(truncate, createAttrs ?? {});
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const { size, stored } = this.readableExtent();
    if (offset >= stored) return Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
    return this.objectReader().read(offset, Math.min(length, stored - offset));
  }

  /** As `read`, straight into the caller's buffer: the server's reply buffer, so a READ costs one copy and no allocation. */
  async readInto(target: Buffer, offset: number): Promise<number> {
    const { size, stored } = this.readableExtent();
    if (offset >= stored) {
      const zeros = Math.max(0, Math.min(target.length, size - offset));
      target.fill(0, 0, zeros);
      return zeros;
    }
    return this.objectReader().readInto(target.subarray(0, Math.min(target.length, stored - offset)), offset);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    if (!this.flags.write) throw new PermissionDenied(this.path, { message: 'File was not opened for writing' });
    const upload = this.upload ?? this.startUpload(false, {});
    await upload.write(this.flags.append ? upload.size : offset, data);
  }

  async stat(): Promise<Stats> {
    if (!this.upload) return this.context.stat(this.path);
    return statsOf('file', { size: this.upload.size, lastModified: new Date(), metadata: this.upload.metadata }, this.context.defaults);
  }

  async setstat(attrs: SetAttributes): Promise<void> {
    if (attrs.size !== undefined) {
      if (!this.flags.write) throw new InvalidArgument(this.path, { message: 'File was not opened for writing' });
      (this.upload ?? this.startUpload(false, {})).truncate(attrs.size);
    }
    if (!changesMetadata(attrs)) return;
    const { size: _size, ...metadataAttrs } = attrs;
    // Metadata of an object being written travels with it; otherwise it is changed in place.
    if (this.upload) this.upload.setMetadata(applyAttributes(this.upload.metadata, metadataAttrs, 'file'));
    else await this.context.setstat(this.path, metadataAttrs);
  }

  async close(): Promise<void> {
    this.reader?.close();
    const upload = this.upload;
    if (!upload) return;
    await upload.complete();
    // Times set after a multipart upload began (sftp put -p sets them last) are stored by a copy onto itself.
    if (upload.needsMetadataCopy) await this.context.bucket.copy(this.key, this.key, upload.size, this.path, upload.metadata);
  }

  async abort(): Promise<void> {
    this.reader?.close();
    await this.upload?.abort();
  }

  /** Checks that the handle may read; `size` is the file's, `stored` how much of it comes from the object (the rest, a file extended by setstat, reads as zeros). */
  private readableExtent(): { size: number; stored: number } {
    if (!this.flags.read) throw new PermissionDenied(this.path, { message: 'File was not opened for reading' });
    if (this.upload?.started) {
      throw new Unsupported(this.path, { message: 'Reading an S3 object while writing it is not supported (close it first)' });
    }
    const size = this.upload ? this.upload.size : (this.existing?.size ?? 0);
    return { size, stored: this.upload ? (this.base?.length ?? 0) : size };
  }

  private startUpload(truncate: boolean, attrs: SetAttributes): ObjectUpload {
    const existing = this.existing;
    // Attributes given at open apply to a new file only, as open(2)'s mode does; a rewrite keeps mode and owner.
    const metadata = applyAttributes(existing?.metadata ?? {}, existing ? {} : attrs, 'file', true);
    if (existing && !truncate && existing.size > 0) {
      this.base = { length: existing.size, read: (offset, length) => this.objectReader().read(offset, length) };
    }
    this.upload = this.context.makeUpload(this.key, this.path, metadata, this.base);
    return this.upload;
  }

  private objectReader(): ObjectReader {
    this.reader ??= this.context.makeReader(this.key, this.path, this.existing!);
    return this.reader;
  }
}
