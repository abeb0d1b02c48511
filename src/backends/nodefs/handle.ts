import { PermissionDenied, fromErrno } from '../../fs/errors.js';
import type { FileHandle, FileType, OpenFlags, SetAttributes, Stats } from '../../fs/types.js';
import type { NodeFileHandleLike, NodeStatsLike } from './fsLike.js';

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

/** Runs one fs call and translates its error: the single errno→FSError point of this backend. */
export async function errno<T>(path: string, operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (err) {
    throw fromErrno(err, path);
  }
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

/** An open file of a NodeFS: positioned reads and writes straight on the fs handle. */
export class NodeFileHandle implements FileHandle {
  readonly fsync?: () => Promise<void>;

  constructor(
    private readonly handle: NodeFileHandleLike,
    private readonly path: string,
    private readonly flags: OpenFlags,
  ) {
    const sync = handle.sync;
    if (typeof sync === 'function') this.fsync = () => errno(this.path, sync.call(handle));
  }

  async read(offset: number, length: number): Promise<Buffer> {
    // The kernel would say EBADF, but not every fs-like (memfs) checks: refuse here, identically for all.
    if (!this.flags.read && this.flags.write) throw new PermissionDenied(this.path, { message: 'File not opened for reading' });
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await errno(this.path, this.handle.read(buffer, 0, length, offset));
    return buffer.subarray(0, bytesRead);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    if (!this.flags.write) throw new PermissionDenied(this.path, { message: 'File not opened for writing' });
    // In append mode the position is left to O_APPEND: pwrite's treatment of it is platform-dependent.
    for (let done = 0; done < data.length; ) {
      const position = this.flags.append ? null : offset + done;
      const { bytesWritten } = await errno(this.path, this.handle.write(data, done, data.length - done, position));
      done += bytesWritten;
    }
  }

  async stat(): Promise<Stats> {
    return statsFromNode(await errno(this.path, this.handle.stat()));
  }

  setstat(attrs: SetAttributes): Promise<void> {
    const handle = this.handle;
    return applyAttributes(this.path, attrs, {
      stat: () => handle.stat(),
      truncate: (size) => handle.truncate(size),
      chmod: (mode) => handle.chmod(mode),
      chown: (uid, gid) => handle.chown(uid, gid),
      utimes: (atime, mtime) => handle.utimes(atime, mtime),
    });
  }

  close(): Promise<void> {
    return errno(this.path, this.handle.close());
  }
}
