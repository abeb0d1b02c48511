import { ReadOnly } from '../errors.js';
import type { FS } from '../FS.js';
import type { FileHandle, OpenFlags, SetAttributes, StatVFS } from '../types.js';
import { WrapFileHandle, WrapFS } from './WrapFS.js';

/** An open file of a {@link ReadOnlyFS}: reads pass through, changes are refused. */
class ReadOnlyFileHandle extends WrapFileHandle {
  constructor(inner: FileHandle, private readonly path: string) {
    super(inner);
  }

  override async write(_offset: number, _data: Buffer): Promise<void> {
    throw new ReadOnly(this.path);
  }

  override async setstat(_attrs: SetAttributes): Promise<void> {
    throw new ReadOnly(this.path);
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
export class ReadOnlyFS extends WrapFS {
  constructor(inner: FS) {
    super(inner);
    this.copy = undefined;
    this.link = undefined;
    if (typeof inner.statvfs === 'function') {
      const statvfs = inner.statvfs.bind(inner);
      this.statvfs = async (path: string): Promise<StatVFS> => ({ ...(await statvfs(path)), readOnly: true });
    }
  }

  override get isReadOnly(): boolean {
    return true;
  }

  override async open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle> {
    if (changesFile(flags)) throw new ReadOnly(path);
    return new ReadOnlyFileHandle(await this.inner.open(path, flags, attrs), path);
  }

  override async setstat(path: string, _attrs: SetAttributes): Promise<void> {
    throw new ReadOnly(path);
  }

  override async mkdir(path: string, _attrs?: SetAttributes): Promise<void> {
    throw new ReadOnly(path);
  }

  override async rmdir(path: string): Promise<void> {
    throw new ReadOnly(path);
  }

  override async remove(path: string): Promise<void> {
    throw new ReadOnly(path);
  }

  override async rename(from: string, _to: string): Promise<void> {
    throw new ReadOnly(from);
  }

  override async posixRename(from: string, _to: string): Promise<void> {
    throw new ReadOnly(from);
  }

  override async symlink(_target: string, linkPath: string): Promise<void> {
    throw new ReadOnly(linkPath);
  }
}
