import type { S3Client, ServerSideEncryption, StorageClass } from '@aws-sdk/client-s3';
import {
  AlreadyExists,
  DirectoryNotEmpty,
  InvalidArgument,
  IsADirectory,
  NotADirectory,
  PermissionDenied,
  ResourceNotFound,
} from '../../fs/errors.js';
import { FS } from '../../fs/FS.js';
import { hashRange } from '../../fs/hashRange.js';
import { dirname, isInside, normalizePath, splitPath } from '../../fs/path.js';
import type { DirEntry, FileHandle, HashAlgorithm, OpenFlags, SetAttributes, Stats } from '../../fs/types.js';
import { silentLogger, type Logger } from '../../logger.js';
import { applyAttributes, changesMetadata, statsOf, type AttributeDefaults, type ObjectMetadata } from './attributes.js';
import { Bucket, type HeadResult } from './bucket.js';
import { capacityStats, type Capacity } from './capacity.js';
import { createS3Client, type S3ConnectionOptions } from './client.js';
import { ChunkPool } from './chunkPool.js';
import { ObjectReader } from './download.js';
import { S3FileHandle, type HandleContext } from './handle.js';
import { directoryKey, fileKey, normalizePrefix } from './keys.js';
import { KnownDirectories } from './knownDirectories.js';
import { listDirectory } from './listing.js';
import { moveTree } from './moveTree.js';
import { ObjectUpload, type UploadBase } from './upload.js';

const MiB = 1024 * 1024;
/** S3's smallest part (but the last). */
const MIN_PART_SIZE = 5 * MiB;

/** Options of {@link S3FS}. Only `bucket` is required. */
export interface S3FSOptions extends S3ConnectionOptions {
  bucket: string;
  /** Key prefix the filesystem lives under (`tenants/alice/`); default the whole bucket. */
  prefix?: string;
  /** A ready client (its own settings win over the connection options above). */
  client?: S3Client;
  storageClass?: StorageClass;
  serverSideEncryption?: ServerSideEncryption;
  /** KMS key for `serverSideEncryption: 'aws:kms'`. */
  sseKmsKeyId?: string;
  /** Multipart part size in bytes (default 8 MiB, at least 5 MiB); doubles every 2,000 parts. */
  partSize?: number;
  /** Parts uploaded at once per file (default 4). */
  uploadConcurrency?: number;
  /** How far ahead of the next expected byte a write may arrive and wait (default 8 MiB). */
  reorderWindow?: number;
  /** Bytes a reader streams ahead of the client (default 8 MiB). */
  readAhead?: number;
  /**
   * List with S3's LastModified and default modes instead of a HEAD per entry
   * (rclone's --use-server-modtime): much faster for big directories, but
   * listings then ignore times and modes set by setstat.
   */
  useServerModtime?: boolean;
  /** uid/gid reported for objects without stored ones (default 0). */
  uid?: number;
  gid?: number;
  /** Capacity to report by statvfs; without it statvfs is not offered (S3 has no fixed size). */
  capacity?: Capacity;
  logger?: Logger;
}

interface Settings {
  partSize: number;
  uploadConcurrency: number;
  reorderWindow: number;
  readAhead: number;
  useServerModtime: boolean;
  defaults: AttributeDefaults;
  logger: Logger;
}

type Found = { type: 'file'; head: HeadResult } | { type: 'directory'; marker?: HeadResult };

/**
 * Any S3-compatible bucket (AWS, MinIO, Ceph, R2, ...) as a filesystem.
 * Directories are key prefixes; `mkdir` stores a `dir/` marker so empty
 * ones exist. Files stream both ways without temp files: reads from one
 * ranged GET with read-ahead, writes as a multipart upload published at
 * close. Modes, owners and times are object metadata. See docs/s3.md.
 */
export class S3FS extends FS {
  readonly bucket: Bucket;
  /** The key prefix this filesystem's `/` maps to (`''` or ending in `/`). */
  readonly root: string;
  private readonly settings: Settings;
  private readonly knownDirectories = new KnownDirectories();
  /** Buffers downloads keep their read-ahead in, shared by all of them (and by withPrefix views). */
  private readonly downloadChunks = new ChunkPool();
  private readonly ownsClient: boolean;

  constructor(options: S3FSOptions) {
    super();
    const partSize = options.partSize ?? 8 * MiB;
    if (!(partSize >= MIN_PART_SIZE)) throw new InvalidArgument(undefined, { message: `S3 part size must be at least 5 MiB (got ${partSize})` });
    const logger = options.logger ?? silentLogger;
    const client = options.client ?? createS3Client(options);
    this.ownsClient = options.client === undefined;
    this.bucket = new Bucket(
      client,
      options.bucket,
      { StorageClass: options.storageClass, ServerSideEncryption: options.serverSideEncryption, SSEKMSKeyId: options.sseKmsKeyId },
      logger,
    );
    this.root = normalizePrefix(options.prefix ?? '');
    this.settings = {
      partSize,
      uploadConcurrency: Math.max(1, options.uploadConcurrency ?? 4),
      reorderWindow: options.reorderWindow ?? 8 * MiB,
      readAhead: options.readAhead ?? 8 * MiB,
      useServerModtime: options.useServerModtime ?? false,
      defaults: { uid: options.uid ?? 0, gid: options.gid ?? 0, fileMode: 0o644, directoryMode: 0o755 },
      logger,
    };
    if (options.capacity) this.statvfs = async () => capacityStats(options.capacity!);
  }

  /**
   * The same bucket and client, rooted `prefix` further down: one per tenant
   * from `getFS(session)`. `..` in `prefix` is refused, and paths inside are
   * normalised, so a view can never reach keys outside its prefix.
   */
  withPrefix(prefix: string): S3FS {
    const view = Object.create(S3FS.prototype) as S3FS;
    Object.assign(view, this, { root: this.root + normalizePrefix(prefix), ownsClient: false });
    return view;
  }

  /** Releases the client's sockets, when this S3FS made the client (not a `withPrefix` view, not a given `client`). */
  override async close(): Promise<void> {
    if (this.ownsClient) this.bucket.client.destroy();
  }

  async stat(path: string): Promise<Stats> {
    path = normalizePath(path);
    const found = await this.find(path);
    if (!found) throw await this.notFound(path);
    return found.type === 'file' ? statsOf('file', found.head, this.settings.defaults) : statsOf('directory', found.marker, this.settings.defaults);
  }

  async open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle> {
    path = normalizePath(path);
    if (path === '/') throw new IsADirectory(path);
    const key = fileKey(this.root, path);
    const existing = await this.bucket.head(key, path);
    if (existing) {
      if (flags.create && flags.exclusive) throw new AlreadyExists(path);
    } else {
      const [isDirectory, parentError] = await Promise.all([this.isDirectory(path), flags.create ? this.parentError(path) : undefined]);
      if (isDirectory) throw new IsADirectory(path);
      if (!flags.create) throw await this.notFound(path);
      if (parentError) throw parentError;
    }
    return new S3FileHandle(this.handleContext(), path, key, flags, existing, attrs);
  }

  async *listdir(path: string): AsyncIterable<DirEntry> {
    path = normalizePath(path);
    let empty = true;
    for await (const entry of listDirectory(this.bucket, directoryKey(this.root, path), path, this.settings)) {
      empty = false;
      yield entry;
    }
    // An existing directory lists at least its marker; nothing at all means there is none.
    if (empty && path !== '/' && !(await this.isDirectory(path))) throw await this.notADirectoryOrMissing(path);
  }

  async setstat(path: string, attrs: SetAttributes): Promise<void> {
    path = normalizePath(path);
    const found = await this.find(path);
    if (!found) throw await this.notFound(path);
    if (found.type === 'directory') {
      if (attrs.size !== undefined) throw new IsADirectory(path);
      if (!changesMetadata(attrs)) return;
      if (path === '/' && this.root === '') throw new PermissionDenied(path, { message: 'The root of a bucket has no attributes to change' });
      return this.bucket.put(directoryKey(this.root, path), Buffer.alloc(0), applyAttributes(found.marker?.metadata ?? {}, attrs, 'directory'), path);
    }
    const key = fileKey(this.root, path);
    const { head } = found;
    if (attrs.size !== undefined) {
      // S3 cannot truncate: the object is rewritten, its kept part streamed from the old one.
      const reader = this.makeReader(key, path, head);
      const upload = this.makeUpload(key, path, applyAttributes(head.metadata ?? {}, attrs, 'file', true), {
        length: head.size,
        read: (offset, length) => reader.read(offset, length),
      });
      upload.truncate(attrs.size);
      try {
        await upload.complete();
      } finally {
        reader.close();
      }
      return;
    }
    if (changesMetadata(attrs)) await this.bucket.copy(key, key, head.size, path, applyAttributes(head.metadata ?? {}, attrs, 'file'), head.contentType);
  }

  async mkdir(path: string, attrs: SetAttributes = {}): Promise<void> {
    path = normalizePath(path);
    if (path === '/') throw new AlreadyExists(path);
    const [file, isDirectory, parentError] = await Promise.all([
      this.bucket.head(fileKey(this.root, path), path),
      this.isDirectory(path),
      this.parentError(path),
    ]);
    if (file || isDirectory) throw new AlreadyExists(path);
    if (parentError) throw parentError;
    await this.bucket.put(directoryKey(this.root, path), Buffer.alloc(0), applyAttributes({}, attrs, 'directory'), path);
  }

  async rmdir(path: string): Promise<void> {
    path = normalizePath(path);
    if (path === '/') throw new PermissionDenied(path, { message: 'The root directory cannot be removed' });
    const dirKey = directoryKey(this.root, path);
    if (await this.bucket.hasKeysUnder(dirKey, path, dirKey)) throw new DirectoryNotEmpty(path);
    if (!(await this.bucket.hasKeysUnder(dirKey, path))) throw await this.notADirectoryOrMissing(path);
    this.knownDirectories.forget(dirKey);
    await this.bucket.delete(dirKey, path);
    await this.keepParent(path);
  }

  async remove(path: string): Promise<void> {
    path = normalizePath(path);
    if (path === '/') throw new IsADirectory(path);
    const key = fileKey(this.root, path);
    if (!(await this.bucket.head(key, path))) {
      if (await this.isDirectory(path)) throw new IsADirectory(path);
      throw await this.notFound(path);
    }
    await this.bucket.delete(key, path);
    await this.keepParent(path);
  }

  async posixRename(from: string, to: string): Promise<void> {
    from = normalizePath(from);
    to = normalizePath(to);
    if (from === '/' || to === '/') throw new PermissionDenied(from === '/' ? from : to, { message: 'The root directory cannot be renamed or replaced' });
    const source = await this.find(from);
    if (!source) throw await this.notFound(from);
    if (from === to) return;
    if (source.type === 'directory' && isInside(from, to)) throw new InvalidArgument(to, { message: 'A directory cannot be moved inside itself' });
    const parentError = await this.parentError(to);
    if (parentError) throw parentError;
    const target = await this.find(to);
    if (source.type === 'file') {
      if (target?.type === 'directory') throw new IsADirectory(to);
      const fromKey = fileKey(this.root, from);
      await this.bucket.copy(fromKey, fileKey(this.root, to), source.head.size, to);
      await this.bucket.delete(fromKey, from);
    } else {
      if (target?.type === 'file') throw new NotADirectory(to);
      const toDir = directoryKey(this.root, to);
      if (target && (await this.bucket.hasKeysUnder(toDir, to, toDir))) throw new DirectoryNotEmpty(to);
      const fromDir = directoryKey(this.root, from);
      this.knownDirectories.forget(fromDir);
      await moveTree(this.bucket, fromDir, toDir, from);
    }
    await this.keepParent(from);
  }

  /** Server-side copy (copy-data): CopyObject, multipart above 5 GiB. */
  override async copy(from: string, to: string, overwrite: boolean): Promise<void> {
    from = normalizePath(from);
    to = normalizePath(to);
    const source = await this.find(from);
    if (!source) throw await this.notFound(from);
    if (source.type === 'directory') throw new IsADirectory(from);
    const target = await this.find(to);
    if (target?.type === 'directory') throw new IsADirectory(to);
    if (target && !overwrite) throw new AlreadyExists(to);
    const parentError = target ? undefined : await this.parentError(to);
    if (parentError) throw parentError;
    await this.bucket.copy(fileKey(this.root, from), fileKey(this.root, to), source.head.size, to);
  }

  /**
   * An MD5 of a whole single-part, not KMS-encrypted object is its ETag: no
   * data read. Anything else is computed by streaming the object.
   */
  override async hash(path: string, algorithm: HashAlgorithm, offset: number, length: number): Promise<Buffer> {
    path = normalizePath(path);
    const found = await this.find(path);
    if (!found) throw await this.notFound(path);
    if (found.type === 'directory') throw new IsADirectory(path);
    const { head } = found;
    const etag = /^"?([0-9a-f]{32})"?$/i.exec(head.etag ?? '')?.[1];
    const wholeFile = offset === 0 && (length === 0 || length >= head.size);
    if (algorithm === 'md5' && wholeFile && etag && head.etagIsMd5) return Buffer.from(etag, 'hex');
    const reader = this.makeReader(fileKey(this.root, path), path, head);
    try {
      return await hashRange(reader, algorithm, offset, length);
    } finally {
      reader.close();
    }
  }

  // Internals shared with handles and listings.

  /** Built per call: a withPrefix view must hand its own root to its handles. */
  private handleContext(): HandleContext {
    return {
      bucket: this.bucket,
      defaults: this.settings.defaults,
      makeReader: (key, path, head) => this.makeReader(key, path, head),
      makeUpload: (key, path, metadata, base) => this.makeUpload(key, path, metadata, base),
      stat: (path) => this.stat(path),
      setstat: (path, attrs) => this.setstat(path, attrs),
    };
  }

  private makeReader(key: string, path: string, head: HeadResult): ObjectReader {
    return new ObjectReader({ client: this.bucket.client, bucket: this.bucket.name, key, path, size: head.size, etag: head.etag }, this.settings.readAhead, this.downloadChunks);
  }

  private makeUpload(key: string, path: string, metadata: ObjectMetadata, base?: UploadBase): ObjectUpload {
    return new ObjectUpload(
      {
        client: this.bucket.client,
        bucket: this.bucket.name,
        key,
        path,
        metadata,
        objectParameters: this.bucket.objectParameters,
        partSize: this.settings.partSize,
        concurrency: this.settings.uploadConcurrency,
        reorderWindow: this.settings.reorderWindow,
        logger: this.settings.logger,
      },
      base,
    );
  }

  /** What is at `path`: a file object, a directory (marker or keys below), or nothing. A file wins over a same-named prefix. */
  private async find(path: string): Promise<Found | undefined> {
    if (path === '/') return { type: 'directory', marker: this.root === '' ? undefined : await this.bucket.head(this.root, path) };
    const head = await this.bucket.head(fileKey(this.root, path), path);
    if (head) return { type: 'file', head };
    const dirKey = directoryKey(this.root, path);
    if (!(await this.bucket.hasKeysUnder(dirKey, path))) return undefined;
    return { type: 'directory', marker: await this.bucket.head(dirKey, path) };
  }

  private async isDirectory(path: string): Promise<boolean> {
    if (path === '/') return true;
    const dirKey = directoryKey(this.root, path);
    if (this.knownDirectories.has(dirKey)) return true;
    const exists = await this.bucket.hasKeysUnder(dirKey, path);
    if (exists) this.knownDirectories.add(dirKey);
    return exists;
  }

  /** Why `path` cannot be created: its parent is missing or a file; undefined when the parent is a directory. */
  private async parentError(path: string): Promise<Error | undefined> {
    const parent = dirname(path);
    if (await this.isDirectory(parent)) return undefined;
    return this.notADirectoryOrMissing(parent);
  }

  private async notADirectoryOrMissing(path: string): Promise<Error> {
    if (await this.bucket.head(fileKey(this.root, path), path)) return new NotADirectory(path);
    return this.notFound(path);
  }

  /** ResourceNotFound, or NotADirectory when some ancestor of `path` is a file (as stat(2) says). */
  private async notFound(path: string): Promise<Error> {
    const parts = splitPath(path);
    const ancestors = parts.slice(0, -1).map((_, i) => '/' + parts.slice(0, i + 1).join('/'));
    const heads = await Promise.all(ancestors.map((ancestor) => this.bucket.head(fileKey(this.root, ancestor), ancestor)));
    return heads.some((head) => head !== undefined) ? new NotADirectory(path) : new ResourceNotFound(path);
  }

  /**
   * Keeps the parent of a removed or moved-away entry in existence: a
   * directory implied only by keys below it would vanish with its last key,
   * which no POSIX client expects. Costs one LIST, and a marker when needed.
   */
  private async keepParent(path: string): Promise<void> {
    const parent = dirname(path);
    if (parent === '/') return;
    const dirKey = directoryKey(this.root, parent);
    if (!(await this.bucket.hasKeysUnder(dirKey, parent))) await this.bucket.put(dirKey, Buffer.alloc(0), {}, parent);
  }
}
