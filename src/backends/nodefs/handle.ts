import { PermissionDenied, fromErrno } from '../../fs/errors.js';
import type { FileHandle, FileType, OpenFlags, SetAttributes, Stats } from '../../fs/types.js';
import type { NodeFileHandleLike, NodeStatsLike } from './fsLike.js';
import { WriteBehind } from './writeBehind.js';

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
const fileTypes: Record<number, FileType> = { [S_IFREG]: 'file', [S_IFDIR]: 'directory', [S_IFLNK]: 'symlink' };
export const kindOf = (stats: NodeStatsLike): number => Number(stats.mode) & S_IFMT;

/** Converts Node stats into the contract's Stats (seconds, 0o7777 permissions). */
export function statsFromNode(stats: NodeStatsLike): Stats {
  const mode = Number(stats.mode);
  return {
    type: fileTypes[mode & S_IFMT] ?? 'other',
    size: Number(stats.size),
    permissions: mode & 0o7777,
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    atime: Number(stats.atimeMs) / 1000,
    mtime: Number(stats.mtimeMs) / 1000,
    ...(stats.nlink !== undefined ? { nlink: Number(stats.nlink) } : {}),
  };
}

/**
 * Runs one fs call and translates its error: the single errno→FSError point of
 * this backend. A catch on the call's promise rather than an async function
 * around it: one promise per fs call, not two.
 */
export function errno<T>(path: string, operation: Promise<T>): Promise<T> {
  return operation.catch((err: unknown) => {
    throw fromErrno(err, path);
  });
}

/** Fills the half of an (atime, mtime) pair a client left out from the current stats. */
export async function applyAttributes(
  path: string,
  attrs: SetAttributes,
  ops: {
    stat(): Promise<NodeStatsLike>;
    truncate(size: number): Promise<void>;
    chmod(mode: number): Promise<void>;
    chown(uid: number, gid: number): Promise<void>;
    utimes(atime: number, mtime: number): Promise<void>;
  },
): Promise<void> {
  // OpenSSH's order: size, permissions, owner, times (last, since truncate would bump mtime).
  if (attrs.size !== undefined) await errno(path, ops.truncate(attrs.size));
  if (attrs.permissions !== undefined) await errno(path, ops.chmod(attrs.permissions & 0o7777));
  const needsOwner = attrs.uid !== undefined || attrs.gid !== undefined;
  const needsTimes = attrs.atime !== undefined || attrs.mtime !== undefined;
  const partial = (needsOwner && (attrs.uid === undefined || attrs.gid === undefined)) || (needsTimes && (attrs.atime === undefined || attrs.mtime === undefined));
  const current = partial ? statsFromNode(await errno(path, ops.stat())) : undefined;
  if (needsOwner) await errno(path, ops.chown(attrs.uid ?? current!.uid, attrs.gid ?? current!.gid));
  if (needsTimes) await errno(path, ops.utimes(attrs.atime ?? current!.atime, attrs.mtime ?? current!.mtime));
}

/** Bytes read past the size a read-only handle was opened with: finds the end, or data appended since. */
const END_PROBE = 4096;

/** An open file of a NodeFS: positioned reads and writes straight on the fs handle. */
export class NodeFileHandle implements FileHandle {
  readonly fsync?: () => Promise<void>;
  /** Gathers sequential writes (see WriteBehind); absent on a handle not opened for writing. */
  private readonly writes?: WriteBehind;

  /**
   * @param sizeAtOpen the file's size when opened, to size the buffers of reads
   *   on a read-only handle (see read)
   */
  constructor(
    private readonly handle: NodeFileHandleLike,
    private readonly path: string,
    private readonly flags: OpenFlags,
    private readonly sizeAtOpen?: number,
  ) {
    const sync = handle.sync;
    if (typeof sync === 'function') {
      this.fsync = async () => {
        await this.flushWrites();
        await errno(this.path, sync.call(handle));
      };
    }
    if (flags.write) this.writes = new WriteBehind((data, position) => this.writeFully(data, position), flags.append);
  }

  /** Makes gathered writes visible to the file before an operation that looks at it. */
  private async flushWrites(): Promise<void> {
    if (this.writes?.pending) await this.writes.flush();
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(this.expectedLength(offset, length));
    return buffer.subarray(0, await this.readInto(buffer, offset));
  }

  async readInto(target: Buffer, offset: number): Promise<number> {
    // The kernel would say EBADF, but not every fs-like (memfs) checks: refuse here, identically for all.
    if (!this.flags.read && this.flags.write) throw new PermissionDenied(this.path, { message: 'File not opened for reading' });
    // Reads are the hot path: no call and no await at all on a handle with nothing gathered.
    if (this.writes?.pending) await this.flushWrites();
    const length = this.expectedLength(offset, target.length);
    const { bytesRead } = await errno(this.path, this.handle.read(target, 0, length, offset));
    return bytesRead;
  }

  /**
   * Clients ask for as much as the server allows (OpenSSH: 255 KiB) even of a
   * 4 KiB file, then once more to see the end. Reading only what the file held
   * when opened keeps such reads small (no 255 KiB buffer to allocate and
   * collect, and small enough for a synchronous read: see FdHandle), and
   * past that size a small probe still sees data appended since, or the end.
   * A read shorter than asked is valid SFTP (clients ask again for the rest),
   * and only read-only handles do this: a writer's own writes move the end.
   */
  private expectedLength(offset: number, length: number): number {
    const size = this.sizeAtOpen;
    if (size === undefined || this.flags.write) return length;
    return Math.min(length, offset < size ? size - offset : END_PROBE);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    if (!this.writes) throw new PermissionDenied(this.path, { message: 'File not opened for writing' });
    await this.writes.write(offset, data);
  }

  /** Writes all of `data`, looping over short writes. Position null: at the end (O_APPEND). */
  private async writeFully(data: Buffer, position: number | null): Promise<void> {
    // In append mode the position is left to O_APPEND: pwrite's treatment of it is platform-dependent.
    for (let done = 0; done < data.length; ) {
      const at = position === null ? null : position + done;
      const { bytesWritten } = await errno(this.path, this.handle.write(data, done, data.length - done, at));
      done += bytesWritten;
    }
  }

  async stat(): Promise<Stats> {
    await this.flushWrites();
    return statsFromNode(await errno(this.path, this.handle.stat()));
  }

  async setstat(attrs: SetAttributes): Promise<void> {
    await this.flushWrites();
    const handle = this.handle;
    return applyAttributes(this.path, attrs, {
      stat: () => handle.stat(),
      truncate: (size) => handle.truncate(size),
      chmod: (mode) => handle.chmod(mode),
      chown: (uid, gid) => handle.chown(uid, gid),
      utimes: (atime, mtime) => handle.utimes(atime, mtime),
    });
  }

  /** Closes the file even when the last writes failed, then reports that failure. */
  async close(): Promise<void> {
    try {
      await this.flushWrites();
    } finally {
      this.writes?.release();
      await errno(this.path, this.handle.close());
    }
  }
}
