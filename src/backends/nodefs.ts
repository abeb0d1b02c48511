import { createHash } from 'node:crypto';
import { constants as hostConstants } from 'node:fs';
import { FS } from '../fs/FS.js';
import { AlreadyExists, IsADirectory, PermissionDenied, ResourceNotFound, fromErrno } from '../fs/errors.js';
import { basename, dirname, isInside, normalizePath } from '../fs/path.js';
import type { DirEntry, FileHandle, FileType, HashAlgorithm, OpenFlags, SetAttributes, StatVFS, Stats } from '../fs/types.js';

/*
 * The structural shape of a Node-`fs`-like object, as little of it as NodeFS
 * uses, so that node:fs, fs-extra, memfs and unionfs all fit without casts.
 * Numbers may be bigints (memfs types them `number | bigint`).
 */
type NumberLike = number | bigint;

/** What NodeFS reads from a `Stats` object. */
export interface NodeStatsLike {
  mode: NumberLike;
  size: NumberLike;
  uid: NumberLike;
  gid: NumberLike;
  atimeMs: NumberLike;
  mtimeMs: NumberLike;
  nlink?: NumberLike;
}

/** What NodeFS reads from a `StatFs` object (`fs.promises.statfs`). */
export interface NodeStatFsLike {
  type?: NumberLike;
  bsize: NumberLike;
  blocks: NumberLike;
  bfree: NumberLike;
  bavail: NumberLike;
  files: NumberLike;
  ffree: NumberLike;
}

/** The methods NodeFS uses on an `fs.promises.FileHandle`. */
export interface NodeFileHandleLike {
  read(buffer: Buffer, offset: number, length: number, position: number | null): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset: number, length: number, position: number | null): Promise<{ bytesWritten: number }>;
  stat(): Promise<NodeStatsLike>;
  truncate(length?: number): Promise<void>;
  utimes(atime: number, mtime: number): Promise<void>;
  chmod(mode: number): Promise<void>;
  chown(uid: number, gid: number): Promise<void>;
  sync?(): Promise<void>;
  close(): Promise<void>;
}

/** A name from `readdir`: a string, a Buffer, or a Dirent when `withFileTypes` was given. */
type NodeDirName = string | Buffer | { name: string | Buffer };

/** The `fs.promises` functions NodeFS uses; the optional ones are feature-detected. */
export interface NodePromisesLike {
  open(path: string, flags: number, mode?: number): Promise<NodeFileHandleLike>;
  stat(path: string): Promise<NodeStatsLike>;
  lstat(path: string): Promise<NodeStatsLike>;
  readdir(path: string): Promise<readonly NodeDirName[]>;
  mkdir(path: string, mode?: number): Promise<unknown>;
  rmdir(path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  chown(path: string, uid: number, gid: number): Promise<void>;
  utimes(path: string, atime: number, mtime: number): Promise<void>;
  truncate(path: string, length?: number): Promise<void>;
  opendir?(path: string, options?: { bufferSize?: number }): Promise<AsyncIterable<{ name: string | Buffer }>>;
  symlink?(target: string, path: string): Promise<void>;
  readlink?(path: string): Promise<string | Buffer>;
  realpath?(path: string): Promise<string | Buffer>;
  link?(existingPath: string, newPath: string): Promise<void>;
  copyFile?(from: string, to: string, mode?: number): Promise<void>;
  statfs?(path: string): Promise<NodeStatFsLike>;
}

/** Any object with Node's `fs.promises` API: node:fs, fs-extra, memfs, unionfs... */
export interface NodeFSLike {
  promises: NodePromisesLike;
  /** Open-flag values of that fs; node:fs's are used when absent. */
  constants?: Partial<Record<'O_RDONLY' | 'O_WRONLY' | 'O_RDWR' | 'O_CREAT' | 'O_EXCL' | 'O_TRUNC' | 'O_APPEND' | 'COPYFILE_EXCL', number>>;
}

export interface NodeFSOptions {
  /**
   * Directory of the underlying fs that appears as `/`. A plain prefix: `..`
   * cannot climb above it, but symlinks are followed wherever they lead (use
   * LocalFS for a jail on the real disk). Default `/`.
   */
  root?: string;
}

/** How many entries of a listing are lstat'ed concurrently: enough to overlap I/O, few enough to stay lazy. */
const LISTDIR_BATCH = 32;
/** Chunk size when hashing: large reads keep the syscall count low. */
const HASH_CHUNK = 256 * 1024;

const S_IFMT = 0o170000;
const fileTypes: Record<number, FileType> = { 0o100000: 'file', 0o040000: 'directory', 0o120000: 'symlink' };

/** Converts Node stats into the contract's Stats (seconds, 0o7777 permissions). */
function statsFromNode(stats: NodeStatsLike): Stats {
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
async function errno<T>(path: string, operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (err) {
    throw fromErrno(err, path);
  }
}

function nameOf(entry: NodeDirName): string {
  if (typeof entry === 'string') return entry;
  if (Buffer.isBuffer(entry)) return entry.toString();
  return String(entry.name);
}

/** Fills the half of an (atime, mtime) pair a client left out from the current stats. */
async function applyAttributes(
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
class NodeFileHandle implements FileHandle {
  readonly fsync?: () => Promise<void>;

  constructor(
    private readonly handle: NodeFileHandleLike,
    private readonly path: string,
    private readonly append: boolean,
  ) {
    const sync = handle.sync;
    if (typeof sync === 'function') this.fsync = () => errno(this.path, sync.call(handle));
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await errno(this.path, this.handle.read(buffer, 0, length, offset));
    return buffer.subarray(0, bytesRead);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    // In append mode the position is left to O_APPEND: pwrite's treatment of it is platform-dependent.
    for (let done = 0; done < data.length; ) {
      const position = this.append ? null : offset + done;
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

/**
 * Exposes any object with Node's `fs.promises` API as an FS: the real
 * `node:fs`, memfs (`createFsFromVolume`), unionfs, fs-extra...
 *
 * Optional capabilities exist only when the object can do them: `statvfs`
 * needs `statfs`, `copy` needs `copyFile`, `link` needs `link`; `hash` reads
 * the file through a handle. Listings use `opendir` when available (lazy),
 * else `readdir`, and lstat entries in concurrent batches.
 *
 * The root is a prefix, not a jail: symlinks are resolved by the underlying fs.
 * For the real disk with symlink containment use {@link LocalFS}.
 */
export class NodeFS extends FS {
  /** The underlying `fs.promises`. */
  protected readonly fsp: NodePromisesLike;
  /** Host path of the FS's `/`, without a trailing slash (empty for `/`). */
  protected readonly rootPrefix: string;
  private readonly flagValues: Required<NonNullable<NodeFSLike['constants']>>;

  constructor(fsLike: NodeFSLike, options: NodeFSOptions = {}) {
    super();
    this.fsp = fsLike.promises;
    const root = normalizePath(options.root ?? '/');
    this.rootPrefix = root === '/' ? '' : root;
    this.flagValues = { ...hostConstants, ...fsLike.constants } as Required<NonNullable<NodeFSLike['constants']>>;
    const fsp = this.fsp;
    if (typeof fsp.statfs === 'function') this.statvfs = (path) => this.statvfsWith(fsp.statfs!.bind(fsp), path);
    if (typeof fsp.copyFile === 'function') this.copy = (from, to, overwrite) => this.copyWith(fsp.copyFile!.bind(fsp), from, to, overwrite);
    if (typeof fsp.link === 'function') this.link = (target, linkPath) => this.linkWith(fsp.link!.bind(fsp), target, linkPath);
    this.hash = (path, algorithm, offset, length) => this.hashFile(path, algorithm, offset, length);
  }

  /**
   * The host path to act on for FS `path`. `follow` says whether the operation
   * follows a final symlink; a subclass (LocalFS) overrides this to refuse
   * paths that resolve outside the root.
   */
  protected async hostPath(path: string, _follow: boolean): Promise<string> {
    // Normalised again because `..` in a non-normalised path would climb out of the prefix.
    const normal = normalizePath(path);
    return normal === '/' ? this.rootPrefix || '/' : this.rootPrefix + normal;
  }

  /** Extra open(2) flags a subclass wants (LocalFS adds O_NOFOLLOW on paths it already resolved). */
  protected extraOpenFlags(): number {
    return 0;
  }

  /** Maps a host path back to an FS path; PermissionDenied when it lies outside the root. */
  protected fsPathOf(hostPath: string, path: string): string {
    const root = this.rootPrefix || '/';
    if (!isInside(root, hostPath)) throw new PermissionDenied(path, { message: 'Path resolves outside the exposed root' });
    return hostPath.slice(this.rootPrefix.length) || '/';
  }

  private openFlags(flags: OpenFlags): number {
    const c = this.flagValues;
    let n = flags.read && flags.write ? c.O_RDWR : flags.write ? c.O_WRONLY : c.O_RDONLY;
    if (flags.create) n |= c.O_CREAT | (flags.exclusive ? c.O_EXCL : 0);
    if (flags.truncate) n |= c.O_TRUNC;
    if (flags.append) n |= c.O_APPEND;
    return n | this.extraOpenFlags();
  }

  async open(path: string, flags: OpenFlags, attrs: SetAttributes = {}): Promise<FileHandle> {
    const host = await this.hostPath(path, true);
    // As OpenSSH: the mode applies (through the umask) only when the file is created.
    const handle = await errno(path, this.fsp.open(host, this.openFlags(flags), attrs.permissions ?? 0o666));
    try {
      // Opening a directory succeeds in POSIX; refuse it here rather than on every read.
      if ((Number((await handle.stat()).mode) & S_IFMT) === 0o040000) throw new IsADirectory(path);
    } catch (err) {
      await handle.close().catch(() => {});
      throw fromErrno(err, path);
    }
    return new NodeFileHandle(handle, path, flags.append);
  }

  async *listdir(path: string): AsyncIterable<DirEntry> {
    const host = await this.hostPath(path, true);
    const names = this.directoryNames(host, path);
    let batch: string[] = [];
    for await (const name of names) {
      batch.push(name);
      if (batch.length >= LISTDIR_BATCH) {
        yield* await this.lstatBatch(host, path, batch);
        batch = [];
      }
    }
    if (batch.length > 0) yield* await this.lstatBatch(host, path, batch);
  }

  private async *directoryNames(host: string, path: string): AsyncIterable<string> {
    const fsp = this.fsp;
    if (typeof fsp.opendir === 'function') {
      const dir = await errno(path, fsp.opendir(host, { bufferSize: LISTDIR_BATCH }));
      const iterator = dir[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = await errno(path, iterator.next());
          if (next.done) return;
          yield nameOf(next.value);
        }
      } finally {
        // Closes the Dir when the consumer stops early; a second close after exhaustion is refused, hence the catch.
        await iterator.return?.().catch(() => {});
      }
    }
    for (const entry of await errno(path, fsp.readdir(host))) yield nameOf(entry);
  }

  private async lstatBatch(host: string, path: string, names: string[]): Promise<DirEntry[]> {
    const prefix = host.endsWith('/') ? host : host + '/';
    const stats = await Promise.all(
      names.map((name) =>
        this.fsp.lstat(prefix + name).then(statsFromNode, (err: unknown) => {
          // Removed between the listing and the lstat: it is simply no longer there.
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw fromErrno(err, path === '/' ? `/${name}` : `${path}/${name}`);
        }),
      ),
    );
    const entries: DirEntry[] = [];
    names.forEach((name, i) => {
      if (stats[i]) entries.push({ name, stats: stats[i] });
    });
    return entries;
  }

  async stat(path: string): Promise<Stats> {
    return statsFromNode(await errno(path, this.fsp.stat(await this.hostPath(path, true))));
  }

  override async lstat(path: string): Promise<Stats> {
    return statsFromNode(await errno(path, this.fsp.lstat(await this.hostPath(path, false))));
  }

  async setstat(path: string, attrs: SetAttributes): Promise<void> {
    const host = await this.hostPath(path, true);
    const fsp = this.fsp;
    await applyAttributes(path, attrs, {
      stat: () => fsp.stat(host),
      truncate: (size) => fsp.truncate(host, size),
      chmod: (mode) => fsp.chmod(host, mode),
      chown: (uid, gid) => fsp.chown(host, uid, gid),
      utimes: (atime, mtime) => fsp.utimes(host, atime, mtime),
    });
  }

  async mkdir(path: string, attrs: SetAttributes = {}): Promise<void> {
    const host = await this.hostPath(path, false);
    await errno(path, this.fsp.mkdir(host, attrs.permissions ?? 0o777));
    const { permissions: _mode, size: _size, ...rest } = attrs;
    if (Object.values(rest).some((value) => value !== undefined)) await this.setstat(path, rest);
  }

  async rmdir(path: string): Promise<void> {
    await errno(path, this.fsp.rmdir(await this.hostPath(path, false)));
  }

  async remove(path: string): Promise<void> {
    const host = await this.hostPath(path, false);
    try {
      await this.fsp.unlink(host);
    } catch (err) {
      // unlink(2) of a directory is EISDIR on Linux but EPERM on macOS and in memfs.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPERM' || code === 'EISDIR') {
        const stats = await this.fsp.lstat(host).catch(() => undefined);
        if (stats && (Number(stats.mode) & S_IFMT) === 0o040000) throw new IsADirectory(path);
      }
      throw fromErrno(err, path);
    }
  }

  async posixRename(from: string, to: string): Promise<void> {
    const [hostFrom, hostTo] = await Promise.all([this.hostPath(from, false), this.hostPath(to, false)]);
    await errno(from, this.fsp.rename(hostFrom, hostTo));
  }

  /**
   * SFTP v3 rename (never replaces). Regular files are moved as OpenSSH does,
   * link then unlink, so an existing target can never be clobbered by a race;
   * other objects, or storage without hard links, fall back to check-then-rename.
   */
  override async rename(from: string, to: string): Promise<void> {
    const fsp = this.fsp;
    if (typeof fsp.link === 'function') {
      const [hostFrom, hostTo] = await Promise.all([this.hostPath(from, false), this.hostPath(to, false)]);
      const stats = await errno(from, fsp.lstat(hostFrom));
      if ((Number(stats.mode) & S_IFMT) === 0o100000) {
        try {
          await fsp.link(hostFrom, hostTo);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') throw new AlreadyExists(to, { cause: err });
          if (code === 'ENOENT' || code === 'ENOTDIR') throw fromErrno(err, to);
          return super.rename(from, to);
        }
        await errno(from, fsp.unlink(hostFrom));
        return;
      }
    }
    return super.rename(from, to);
  }

  override async symlink(target: string, linkPath: string): Promise<void> {
    const fsp = this.fsp;
    if (typeof fsp.symlink !== 'function') return super.symlink(target, linkPath);
    await errno(linkPath, fsp.symlink(target, await this.hostPath(linkPath, false)));
  }

  override async readlink(path: string): Promise<string> {
    const fsp = this.fsp;
    if (typeof fsp.readlink !== 'function') return super.readlink(path);
    return String(await errno(path, fsp.readlink(await this.hostPath(path, false))));
  }

  /**
   * Resolved by the underlying fs (so absolute link targets mean host paths,
   * as the OS follows them); a result outside the root is PermissionDenied.
   */
  override async realpath(path: string): Promise<string> {
    const fsp = this.fsp;
    if (typeof fsp.realpath !== 'function') return super.realpath(path);
    path = normalizePath(path);
    const realpath = fsp.realpath.bind(fsp);
    const resolve = async (fsPath: string) => this.fsPathOf(String(await errno(fsPath, realpath(await this.hostPath(fsPath, true)))), fsPath);
    try {
      return await resolve(path);
    } catch (err) {
      // The last component may not exist yet (OpenSSH allows it); its parent must.
      if (!(err instanceof ResourceNotFound) || path === '/') throw err;
      const parent = await resolve(dirname(path));
      return parent === '/' ? `/${basename(path)}` : `${parent}/${basename(path)}`;
    }
  }

  private async statvfsWith(statfs: (path: string) => Promise<NodeStatFsLike>, path: string): Promise<StatVFS> {
    const s = await errno(path, statfs(await this.hostPath(path, true)));
    const files = Number(s.files);
    const filesFree = Number(s.ffree);
    // Node's statfs has neither f_fsid, f_flag nor f_namemax: report the common Linux values.
    return {
      blockSize: Number(s.bsize),
      fragmentSize: Number(s.bsize),
      blocks: Number(s.blocks),
      blocksFree: Number(s.bfree),
      blocksAvailable: Number(s.bavail),
      files,
      filesFree,
      filesAvailable: filesFree,
      fsid: 0,
      readOnly: false,
      nameMax: 255,
    };
  }

  private async copyWith(copyFile: (from: string, to: string, mode?: number) => Promise<void>, from: string, to: string, overwrite: boolean): Promise<void> {
    const [hostFrom, hostTo] = await Promise.all([this.hostPath(from, true), this.hostPath(to, true)]);
    // copyFile of a directory can leave an empty target behind before failing; refuse it first.
    const stats = await errno(from, this.fsp.stat(hostFrom));
    if ((Number(stats.mode) & S_IFMT) === 0o040000) throw new IsADirectory(from);
    await errno(to, copyFile(hostFrom, hostTo, overwrite ? 0 : this.flagValues.COPYFILE_EXCL));
  }

  private async linkWith(link: (existing: string, newPath: string) => Promise<void>, target: string, linkPath: string): Promise<void> {
    const [hostTarget, hostLink] = await Promise.all([this.hostPath(target, false), this.hostPath(linkPath, false)]);
    await errno(linkPath, link(hostTarget, hostLink));
  }

  private async hashFile(path: string, algorithm: HashAlgorithm, offset: number, length: number): Promise<Buffer> {
    const handle = await this.open(path, { read: true, write: false, append: false, create: false, truncate: false, exclusive: false });
    try {
      const hash = createHash(algorithm);
      const end = length === 0 ? Infinity : offset + length;
      for (let position = offset; position < end; ) {
        const chunk = await handle.read(position, Math.min(HASH_CHUNK, end - position));
        if (chunk.length === 0) break;
        hash.update(chunk);
        position += chunk.length;
      }
      return hash.digest();
    } finally {
      await handle.close();
    }
  }
}
