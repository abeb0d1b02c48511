import { ReadOnly } from '../errors.js';
import { FS } from '../FS.js';
import type { DirEntry, FileHandle, HashAlgorithm, OpenFlags, SetAttributes, StatVFS, Stats } from '../types.js';

/** An open file of a {@link ReadOnlyFS}: reads pass through, changes are refused. */
class ReadOnlyFileHandle implements FileHandle {
  constructor(private readonly inner: FileHandle, private readonly path: string) {}

  read(offset: number, length: number): Promise<Buffer> {
    return this.inner.read(offset, length);
  }

  async write(_offset: number, _data: Buffer): Promise<void> {
    throw new ReadOnly(this.path);
  }

  stat(): Promise<Stats> {
    return this.inner.stat();
  }

  async setstat(_attrs: SetAttributes): Promise<void> {
    throw new ReadOnly(this.path);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** True when opening with these flags could change the file. */
function changesFile(flags: OpenFlags): boolean {
  return flags.write || flags.create || flags.truncate || flags.append || flags.exclusive;
}

/**
 * Any FS, with every change refused with `ReadOnly` (which clients see as
 * "Permission denied"). Reads, listings, attributes, symlink reading and path
 * resolution pass through to the inner FS.
 *
 * `isReadOnly` is true, so the server advertises no extension that writes.
 * Of the optional capabilities, `statvfs` (reporting the read-only flag),
 * `hash` and `accountNames` are kept when the inner FS has them; `copy` and
 * `link` are omitted.
 * Changes are refused before the inner FS is asked, so a refused `remove` of a
 * missing file says "read-only", not "no such file", as `sftp-server -R` does.
 *
 * ```ts
 * const fs = new ReadOnlyFS(new LocalFS({ root: '/srv/public' }));
 * ```
 */
export class ReadOnlyFS extends FS {
  constructor(readonly inner: FS) {
    super();
    // Capabilities are instance properties so they exist exactly when the inner FS has them.
    if (typeof inner.statvfs === 'function') {
      const statvfs = inner.statvfs.bind(inner);
      this.statvfs = async (path: string): Promise<StatVFS> => ({ ...(await statvfs(path)), readOnly: true });
    }
    if (typeof inner.accountNames === 'function') this.accountNames = inner.accountNames.bind(inner);
    if (typeof inner.hash === 'function') {
      const hash = inner.hash.bind(inner);
      this.hash = (path: string, algorithm: HashAlgorithm, offset: number, length: number) => hash(path, algorithm, offset, length);
    }
  }

  override get isReadOnly(): boolean {
    return true;
  }

  async open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle> {
    if (changesFile(flags)) throw new ReadOnly(path);
    return new ReadOnlyFileHandle(await this.inner.open(path, flags, attrs), path);
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

  override readlink(path: string): Promise<string> {
    return this.inner.readlink(path);
  }

  override realpath(path: string): Promise<string> {
    return this.inner.realpath(path);
  }

  async setstat(path: string, _attrs: SetAttributes): Promise<void> {
    throw new ReadOnly(path);
  }

  async mkdir(path: string, _attrs?: SetAttributes): Promise<void> {
    throw new ReadOnly(path);
  }

  async rmdir(path: string): Promise<void> {
    throw new ReadOnly(path);
  }

  async remove(path: string): Promise<void> {
    throw new ReadOnly(path);
  }

  override async rename(from: string, _to: string): Promise<void> {
    throw new ReadOnly(from);
  }

  async posixRename(from: string, _to: string): Promise<void> {
    throw new ReadOnly(from);
  }

  override async symlink(_target: string, linkPath: string): Promise<void> {
    throw new ReadOnly(linkPath);
  }

  /** Closes the inner FS: the wrapper owns what it wraps. */
  override close(): Promise<void> {
    return this.inner.close();
  }
}
