import { createHash } from 'node:crypto';
import { constants as hostConstants, promises as hostPromises } from 'node:fs';
import { FS } from '../fs/FS.js';
import {
  AlreadyExists,
  DirectoryNotEmpty,
  InvalidArgument,
  IsADirectory,
  NotADirectory,
  PermissionDenied,
  ResourceNotFound,
  fromErrno,
} from '../fs/errors.js';
import { basename, dirname, isInside, normalizePath } from '../fs/path.js';
import type { DirEntry, FileHandle, HashAlgorithm, OpenFlags, SetAttributes, StatVFS, Stats } from '../fs/types.js';
import type { NodeFSLike, NodePromisesLike, NodeStatFsLike, NodeStatsLike } from './nodefs/fsLike.js';
import { AtomicUpload, partialUploadPath } from './nodefs/atomicUpload.js';
import { listDirectory } from './nodefs/listing.js';
import { Syscalls } from './nodefs/syscalls.js';
import { NodeFileHandle, S_IFDIR, S_IFLNK, S_IFREG, applyAttributes, errno, kindOf, statsFromNode } from './nodefs/handle.js';

export type { NodeFileHandleLike, NodeFSLike, NodePromisesLike, NodeStatFsLike, NodeStatsLike } from './nodefs/fsLike.js';

export interface NodeFSOptions {
  /**
   * Directory of the underlying fs that appears as `/`. A plain prefix: `..`
   * cannot climb above it, but symlinks are followed wherever they lead (use
   * LocalFS for a jail on the real disk). Default `/`.
   */
  root?: string;
  /**
   * Write each new upload (an open that creates or truncates) under a hidden
   * name and rename it into place on a successful close, deleting it when the
   * upload fails or is abandoned. Readers never see a half-written file; the
   * cost is that an interrupted upload cannot be resumed (`put -a`) and a
   * replaced file gets a new inode (owner and mode of the new file). Default
   * off, as OpenSSH writes in place.
   */
  atomicUploads?: boolean;
}

/** Chunk size when hashing: large reads keep the syscall count low. */
const HASH_CHUNK = 256 * 1024;

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
  /** Real path of the root, found on the first realpath. */
  private realRoot?: Promise<string>;
  /** The real disk: the kernel enforces rename's rules, which in-memory fs-likes skip. */
  private readonly kernelChecked: boolean;
  /** Every path and descriptor call, synchronous where that is safe (see Syscalls). */
  protected readonly sys: Syscalls;
  private readonly atomicUploads: boolean;

  constructor(fsLike: NodeFSLike, options: NodeFSOptions = {}) {
    super();
    this.fsp = fsLike.promises;
    const root = normalizePath(options.root ?? '/');
    this.rootPrefix = root === '/' ? '' : root;
    this.kernelChecked = fsLike.promises === hostPromises;
    this.sys = new Syscalls(fsLike);
    this.atomicUploads = options.atomicUploads ?? false;
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

  /**
   * The host path `open` tries first. A subclass whose opens carry O_NOFOLLOW
   * (LocalFS) may leave a final symlink unresolved: the open then fails with
   * ELOOP, and `open` tries again with `hostPath(path, true)`.
   */
  protected hostPathToOpen(path: string, follow: boolean): Promise<string> {
    return this.hostPath(path, follow);
  }

  /** stat(2) of FS `path`, errors untranslated; a subclass that has lstat'ed the path on the way (LocalFS) answers from that. */
  protected async statHost(path: string): Promise<NodeStatsLike> {
    return this.sys.stat(await this.hostPath(path, true));
  }

  /** Extra open(2) flags a subclass wants (LocalFS adds O_NOFOLLOW on paths it already resolved). */
  protected extraOpenFlags(): number {
    return 0;
  }

  /** Maps a real host path back to an FS path; PermissionDenied when it lies outside the real root. */
  private fsPathOf(hostPath: string, path: string, realRoot: string): string {
    if (!isInside(realRoot, hostPath)) throw new PermissionDenied(path, { message: 'Path resolves outside the exposed root' });
    return realRoot === '/' ? hostPath : hostPath.slice(realRoot.length) || '/';
  }

  private openFlags(flags: OpenFlags): number {
    const c = this.flagValues;
    let n = flags.read && flags.write ? c.O_RDWR : flags.write ? c.O_WRONLY : c.O_RDONLY;
    if (flags.create) n |= c.O_CREAT | (flags.exclusive ? c.O_EXCL : 0);
    if (flags.truncate) n |= c.O_TRUNC;
    if (flags.append) n |= c.O_APPEND;
    // A FIFO's open(2) waits for the other end: synchronously, that would freeze every session.
    // O_NONBLOCK makes it return at once; on regular files it changes nothing.
    if (this.kernelChecked) n |= hostConstants.O_NONBLOCK ?? 0;
    return n | this.extraOpenFlags();
  }

  /**
   * Opens with the numeric open(2) flags of the fs-like. Of `attrs` only the
   * permissions are used, as the mode of a created file (the umask applies),
   * as OpenSSH's sftp-server does.
   */
  async open(path: string, flags: OpenFlags, attrs: SetAttributes = {}): Promise<FileHandle> {
    // O_CREAT|O_EXCL never follows a final symlink (it fails with EEXIST), so neither does its check.
    const follow = !(flags.create && flags.exclusive);
    if (this.atomicUploads && flags.write && flags.truncate && !flags.append) return this.openAtomicUpload(path, await this.hostPath(path, follow), flags, attrs);
    const host = await this.hostPathToOpen(path, follow);
    try {
      return await this.openHost(path, host, flags, attrs);
    } catch (err) {
      // O_NOFOLLOW refused a final symlink that hostPathToOpen left unresolved (ELOOP; EMLINK on FreeBSD):
      // open where it leads. A real loop fails again.
      const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
      if (!follow || (code !== 'ELOOP' && code !== 'EMLINK')) throw err;
      const resolved = await this.hostPath(path, true);
      if (resolved === host) throw err;
      return this.openHost(path, resolved, flags, attrs);
    }
  }

  /** See {@link NodeFSOptions.atomicUploads}. */
  private async openAtomicUpload(path: string, host: string, flags: OpenFlags, attrs: SetAttributes): Promise<FileHandle> {
    if (flags.exclusive && (await this.exists(path, { followSymlinks: false }))) throw new AlreadyExists(path);
    // Fail as the real open would (a directory, a missing parent) before writing anywhere.
    const target = await this.sys.stat(host).catch(() => undefined);
    if (target && kindOf(target) === S_IFDIR) throw new IsADirectory(path);
    const partial = partialUploadPath(host);
    const handle = await this.openHost(path, partial, { ...flags, create: true, exclusive: true }, attrs);
    return new AtomicUpload(handle, partial, host, path, { rename: (from, to) => this.sys.rename(from, to), unlink: (file) => this.sys.unlink(file) });
  }

  private async openHost(path: string, host: string, flags: OpenFlags, attrs: SetAttributes): Promise<FileHandle> {
    // As OpenSSH: the mode applies (through the umask) only when the file is created.
    const handle = await errno(path, this.sys.open(host, this.openFlags(flags), attrs.permissions ?? 0o666));
    let size: number;
    try {
      // Opening a directory succeeds in POSIX; refuse it here rather than on every read.
      const stats = await handle.stat();
      if (kindOf(stats) === S_IFDIR) throw new IsADirectory(path);
      size = Number(stats.size);
    } catch (err) {
      await handle.close().catch(() => {});
      throw fromErrno(err, path);
    }
    return new NodeFileHandle(handle, path, flags, size);
  }

  listdir(path: string): AsyncIterable<DirEntry> {
    // Not a generator around listDirectory: that would add promise hops to every entry.
    return listDirectory(this.fsp, this.sys, () => this.hostPath(path, true), path);
  }

  async stat(path: string): Promise<Stats> {
    return statsFromNode(await errno(path, this.statHost(path)));
  }

  override async lstat(path: string): Promise<Stats> {
    return statsFromNode(await errno(path, this.sys.lstat(await this.hostPath(path, false))));
  }

  async setstat(path: string, attrs: SetAttributes): Promise<void> {
    const host = await this.hostPath(path, true);
    const sys = this.sys;
    await applyAttributes(path, attrs, {
      stat: () => sys.stat(host),
      truncate: (size) => sys.truncate(host, size),
      chmod: (mode) => sys.chmod(host, mode),
      chown: (uid, gid) => sys.chown(host, uid, gid),
      utimes: (atime, mtime) => sys.utimes(host, atime, mtime),
    });
  }

  async mkdir(path: string, attrs: SetAttributes = {}): Promise<void> {
    const host = await this.hostPath(path, false);
    await errno(path, this.sys.mkdir(host, attrs.permissions ?? 0o777));
    const { permissions: _mode, size: _size, ...rest } = attrs;
    if (Object.values(rest).some((value) => value !== undefined)) await this.setstat(path, rest);
  }

  async rmdir(path: string): Promise<void> {
    await errno(path, this.sys.rmdir(await this.hostPath(path, false)));
  }

  async remove(path: string): Promise<void> {
    const host = await this.hostPath(path, false);
    try {
      await this.sys.unlink(host);
    } catch (err) {
      // unlink(2) of a directory is EISDIR on Linux but EPERM on macOS and in memfs.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPERM' || code === 'EISDIR') {
        const stats = await this.sys.lstat(host).catch(() => undefined);
        if (stats && kindOf(stats) === S_IFDIR) throw new IsADirectory(path);
      }
      throw fromErrno(err, path);
    }
  }

  async posixRename(from: string, to: string): Promise<void> {
    const [hostFrom, hostTo] = await Promise.all([this.hostPath(from, false), this.hostPath(to, false)]);
    if (!this.kernelChecked) return this.emulatedPosixRename(hostFrom, hostTo, from, to);
    await errno(from, this.sys.rename(hostFrom, hostTo));
  }

  /**
   * rename(2)'s rules, checked by hand for fs-likes that skip them (memfs moves
   * a directory into itself or over a file, and follows a symlink it renames).
   */
  private async emulatedPosixRename(hostFrom: string, hostTo: string, from: string, to: string): Promise<void> {
    const fsp = this.fsp;
    const [source, target] = await Promise.all([errno(from, fsp.lstat(hostFrom)), fsp.lstat(hostTo).catch(() => undefined)]);
    if (hostFrom === hostTo) return;
    if (kindOf(source) === S_IFDIR) {
      if (hostTo.startsWith(hostFrom + '/')) throw new InvalidArgument(to, { message: 'Cannot move a directory inside itself' });
      if (target && kindOf(target) !== S_IFDIR) throw new NotADirectory(to);
      if (target && (await errno(to, fsp.readdir(hostTo))).length > 0) throw new DirectoryNotEmpty(to);
    } else if (target && kindOf(target) === S_IFDIR) {
      throw new IsADirectory(to);
    }
    if (kindOf(source) === S_IFLNK && fsp.readlink && fsp.symlink) {
      const linkTarget = String(await errno(from, fsp.readlink(hostFrom)));
      if (target) await errno(to, fsp.unlink(hostTo));
      await errno(to, fsp.symlink(linkTarget, hostTo));
      await errno(from, fsp.unlink(hostFrom));
      return;
    }
    await errno(from, fsp.rename(hostFrom, hostTo));
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
      const stats = await errno(from, this.sys.lstat(hostFrom));
      if (kindOf(stats) === S_IFREG) {
        try {
          await this.sys.link(hostFrom, hostTo);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') throw new AlreadyExists(to, { cause: err });
          if (code === 'ENOENT' || code === 'ENOTDIR') throw fromErrno(err, to);
          return super.rename(from, to);
        }
        await errno(from, this.sys.unlink(hostFrom));
        return;
      }
    }
    return super.rename(from, to);
  }

  override async symlink(target: string, linkPath: string): Promise<void> {
    const fsp = this.fsp;
    if (typeof fsp.symlink !== 'function') return super.symlink(target, linkPath);
    // An absolute target names an FS path: stored under the root so that the OS follows it there.
    const stored = target.startsWith('/') && this.rootPrefix !== '' ? this.rootPrefix + (target === '/' ? '' : target) : target;
    await errno(linkPath, this.sys.symlink(stored, await this.hostPath(linkPath, false)));
  }

  override async readlink(path: string): Promise<string> {
    const fsp = this.fsp;
    if (typeof fsp.readlink !== 'function') return super.readlink(path);
    const stored = await errno(path, this.sys.readlink(await this.hostPath(path, false)));
    const root = this.rootPrefix;
    if (root !== '' && (stored === root || stored.startsWith(root + '/'))) return stored.slice(root.length) || '/';
    return stored;
  }

  /**
   * Resolved by the underlying fs (so absolute link targets mean host paths,
   * as the OS follows them); a result outside the root is PermissionDenied.
   */
  override async realpath(path: string): Promise<string> {
    const fsp = this.fsp;
    if (typeof fsp.realpath !== 'function') return super.realpath(path);
    path = normalizePath(path);
    const realpath = (host: string) => this.sys.realpath(host);
    // The root itself may be reached through a symlink (macOS's /tmp); results are compared with its real path.
    const rootPrefix = this.rootPrefix;
    this.realRoot ??= rootPrefix === '' ? Promise.resolve('/') : realpath(rootPrefix).then(String, () => rootPrefix);
    const realRoot = await this.realRoot;
    const resolve = async (fsPath: string) => this.fsPathOf(String(await errno(fsPath, realpath(await this.hostPath(fsPath, true)))), fsPath, realRoot);
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
    const stats = await errno(from, this.sys.stat(hostFrom));
    if (kindOf(stats) === S_IFDIR) throw new IsADirectory(from);
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
