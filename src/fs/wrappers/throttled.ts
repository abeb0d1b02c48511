import { FS } from '../FS.js';
import type { DirEntry, FileHandle, OpenFlags, SetAttributes, Stats } from '../types.js';

/**
 * Something that paces bytes: resolves once `bytes` may pass. A token bucket
 * (see `src/server/defence/tokenBucket.ts`) is the usual one; the FS layer
 * knows only this shape, so it stays free of server concerns.
 */
export type BytePacer = (bytes: number) => Promise<void>;

/** How a {@link ThrottledFS} paces each direction (absent: unpaced). */
export interface ThrottleOptions {
  /** File contents read (what an SFTP client downloads). */
  read?: BytePacer;
  /** File contents written (what an SFTP client uploads). */
  write?: BytePacer;
}

/** An open file whose reads and writes wait for their pacer. */
class ThrottledFileHandle implements FileHandle {
  fsync?: () => Promise<void>;
  abort?: () => Promise<void>;

  constructor(private readonly inner: FileHandle, private readonly pace: ThrottleOptions) {
    if (typeof inner.fsync === 'function') this.fsync = inner.fsync.bind(inner);
    if (typeof inner.abort === 'function') this.abort = inner.abort.bind(inner);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const data = await this.inner.read(offset, length);
    // Paced after the read: only bytes that exist are charged (a short read at EOF costs little).
    if (this.pace.read && data.length > 0) await this.pace.read(data.length);
    return data;
  }

  async write(offset: number, data: Buffer): Promise<void> {
    if (this.pace.write && data.length > 0) await this.pace.write(data.length);
    return this.inner.write(offset, data);
  }

  stat(): Promise<Stats> {
    return this.inner.stat();
  }

  setstat(attrs: SetAttributes): Promise<void> {
    return this.inner.setstat(attrs);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Any FS with file reads and writes paced, for bandwidth limits. Being an FS
 * wrapper, it limits every backend alike; pacers shared by several wrappers
 * (one per session) share one budget. Only file contents are paced: listings
 * and attributes are small, and server-side `copy`/`hash` move no bytes over
 * the network. Everything else, optional capabilities included, passes through.
 *
 * ```ts
 * const bucket = new TokenBucket(5 * 2 ** 20);
 * const fs = new ThrottledFS(inner, { read: (n) => bucket.take(n) });
 * ```
 */
export class ThrottledFS extends FS {
  constructor(readonly inner: FS, private readonly pace: ThrottleOptions) {
    super();
    for (const capability of ['statvfs', 'hash', 'copy', 'link', 'accountNames'] as const) {
      const method = inner[capability];
      if (typeof method === 'function') (this as Record<typeof capability, unknown>)[capability] = method.bind(inner);
    }
  }

  override get isReadOnly(): boolean {
    return this.inner.isReadOnly;
  }

  async open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle> {
    return new ThrottledFileHandle(await this.inner.open(path, flags, attrs), this.pace);
  }

  listdir(path: string): AsyncIterable<DirEntry> {
    return this.inner.listdir(path);
  }

  stat(path: string): Promise<Stats> {
    return this.inner.stat(path);
  }

  override lstat(path: string): Promise<Stats> {
    return this.inner.lstat(path);
  }

  setstat(path: string, attrs: SetAttributes): Promise<void> {
    return this.inner.setstat(path, attrs);
  }

  mkdir(path: string, attrs?: SetAttributes): Promise<void> {
    return this.inner.mkdir(path, attrs);
  }

  rmdir(path: string): Promise<void> {
    return this.inner.rmdir(path);
  }

  remove(path: string): Promise<void> {
    return this.inner.remove(path);
  }

  override rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }

  posixRename(from: string, to: string): Promise<void> {
    return this.inner.posixRename(from, to);
  }

  override symlink(target: string, linkPath: string): Promise<void> {
    return this.inner.symlink(target, linkPath);
  }

  override readlink(path: string): Promise<string> {
    return this.inner.readlink(path);
  }

  override realpath(path: string): Promise<string> {
    return this.inner.realpath(path);
  }

  /** Closes the inner FS: the wrapper owns what it wraps, as the other wrappers do. */
  override close(): Promise<void> {
    return this.inner.close();
  }
}
