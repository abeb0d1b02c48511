import { FS } from '../FS.js';
import { readIntoFile, readIntoViaRead } from '../readInto.js';
import type { DirEntry, FileHandle, OpenFlags, SetAttributes, Stats } from '../types.js';

/** The optional capabilities a wrapper passes through when its inner FS has them. */
const CAPABILITIES = ['statvfs', 'hash', 'copy', 'link', 'accountNames'] as const;

/**
 * An FS that hands every call to `inner` (as PyFilesystem's WrapFS does), so
 * a wrapper overrides only the calls it changes. Optional capabilities exist
 * on the wrapper exactly when the inner FS has them; a wrapper may remove or
 * replace one in its constructor. Closing the wrapper closes the inner FS:
 * a wrapper owns what it wraps.
 */
export class WrapFS extends FS {
  constructor(readonly inner: FS) {
    super();
    for (const capability of CAPABILITIES) {
      const method = inner[capability];
      if (typeof method === 'function') (this as Record<(typeof CAPABILITIES)[number], unknown>)[capability] = method.bind(inner);
    }
  }

  override get isReadOnly(): boolean {
    return this.inner.isReadOnly;
  }

  open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle> {
    return this.inner.open(path, flags, attrs);
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

  override close(): Promise<void> {
    return this.inner.close();
  }
}

/** A FileHandle that hands every call to `inner`; wrappers override what they change. */
export class WrapFileHandle implements FileHandle {
  readonly fsync?: () => Promise<void>;
  readonly abort?: () => Promise<void>;

  constructor(protected readonly inner: FileHandle) {
    if (typeof inner.fsync === 'function') this.fsync = inner.fsync.bind(inner);
    if (typeof inner.abort === 'function') this.abort = inner.abort.bind(inner);
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.inner.read(offset, length);
  }

  /** Straight into the inner handle, unless a subclass changes what `read` returns: then through that `read`. */
  readInto(target: Buffer, offset: number): Promise<number> {
    if (this.read !== WrapFileHandle.prototype.read) return readIntoViaRead(this, target, offset);
    return readIntoFile(this.inner, target, offset);
  }

  write(offset: number, data: Buffer): Promise<void> {
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
