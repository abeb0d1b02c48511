import { PermissionDenied, Unsupported } from '../../fs/errors.js';
import type { FileHandle, OpenFlags, SetAttributes, Stats } from '../../fs/types.js';
import type { WebDAVConnection } from './connection.js';
import { RangedReader } from './rangedReader.js';
import { StreamingUpload, type UploadOptions } from './upload.js';

/** What a handle needs from its filesystem. */
export interface HandleContext {
  connection: WebDAVConnection;
  path: string;
  flags: OpenFlags;
  /** Attributes at open (size 0 for a new or truncated file). */
  stats: Stats;
  /** Whether close must write the file even with no write (it is new, or truncated). */
  mustWrite: boolean;
  reorderWindow: number;
  /** Opens a stream of the existing content, for appends and resumed uploads. */
  existingContent: () => Promise<import('node:stream').Readable>;
  /** A fresh stat of the path and a whole-file resize, for handle operations that need them. */
  statPath: () => Promise<Stats>;
  resize: (size: number) => Promise<void>;
  /** After an abandoned PUT: removes what the server kept of it, if anything (see WebDAVFS). */
  discardPartial: () => Promise<void>;
}

/**
 * An open WebDAV file: reads are ranged GETs (see RangedReader), writes feed
 * one streaming PUT (see StreamingUpload), sent when the first write arrives
 * and completed by `close`, which reports a failed PUT. A handle that writes
 * cannot read meanwhile (the new content exists only once the PUT is done).
 *
 * Writes on a file opened without truncate keep the existing bytes: the PUT
 * body starts with them (streamed from a GET), so appends and resumed
 * uploads (`reput`) work; overwriting existing bytes in place is refused.
 */
export class WebDAVFileHandle implements FileHandle {
  private reader?: RangedReader;
  private upload?: StreamingUpload;
  private closed = false;

  constructor(private readonly context: HandleContext) {}

  async read(offset: number, length: number): Promise<Buffer> {
    const { flags, path, connection } = this.context;
    if (!flags.read) throw new PermissionDenied(path, { message: 'File not opened for reading' });
    if (this.upload || this.context.mustWrite) {
      if (this.context.mustWrite && !this.upload && this.context.stats.size === 0) return Buffer.alloc(0);
      throw new Unsupported(path, { message: 'Reading a WebDAV file while writing it is not supported (close it first)' });
    }
    this.reader ??= new RangedReader(connection, path, this.context.stats.size);
    return this.reader.read(offset, length);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    const { flags, path } = this.context;
    if (!flags.write) throw new PermissionDenied(path, { message: 'File not opened for writing' });
    const upload = this.startUpload();
    // O_APPEND: every write goes to the end, whatever offset it names.
    return upload.write(flags.append ? upload.size : offset, data);
  }

  private startUpload(): StreamingUpload {
    if (this.upload) return this.upload;
    const { connection, path, stats, mustWrite, flags } = this.context;
    this.reader?.close();
    this.reader = undefined;
    const options: UploadOptions = { reorderWindow: this.context.reorderWindow, exclusive: flags.exclusive };
    if (!mustWrite && stats.size > 0) options.prefix = { stream: this.context.existingContent, size: stats.size };
    this.upload = new StreamingUpload(connection, path, options);
    return this.upload;
  }

  async stat(): Promise<Stats> {
    if (this.upload) return { ...this.context.stats, size: this.upload.size, mtime: Date.now() / 1000 };
    if (this.context.mustWrite) return this.context.stats;
    return this.context.statPath();
  }

  async setstat(attrs: SetAttributes): Promise<void> {
    if (attrs.size === undefined) return; // WebDAV keeps no modes, owners or settable times.
    if (this.upload || this.context.mustWrite) {
      const current = this.upload?.size ?? 0;
      if (attrs.size === current) return;
      throw new Unsupported(this.context.path, { message: 'Cannot change the size of a WebDAV file while writing it' });
    }
    await this.context.resize(attrs.size);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reader?.close();
    if (this.upload) return this.upload.finish();
    if (this.context.mustWrite) return this.startUpload().finish();
  }

  /**
   * Cancels the PUT in flight (the server sees the request cut off mid-body),
   * then removes whatever partial file the server kept: see docs/webdav.md.
   */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reader?.close();
    if (!this.upload) return;
    await this.upload.abort();
    await this.context.discardPartial();
  }
}
