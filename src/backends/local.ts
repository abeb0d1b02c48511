import fse from 'fs-extra';
import { posix } from 'node:path';
import { InvalidPath, PermissionDenied, fromErrno } from '../fs/errors.js';
import { isInside, normalizePath } from '../fs/path.js';
import type { AccountNames } from '../fs/types.js';
import { systemAccountNames } from './local/systemAccounts.js';
import { NodeFS } from './nodefs.js';
import type { NodeStatsLike } from './nodefs/fsLike.js';
import { S_IFDIR, S_IFLNK, kindOf } from './nodefs/handle.js';

/** Symlinks followed while resolving one path before giving up (Linux's MAXSYMLINKS). */
const MAX_SYMLINK_HOPS = 40;

export interface LocalFSOptions {
  /** Directory of the local disk that appears as `/`; `/` exposes the whole filesystem. */
  root: string;
  /** Publish uploads only when complete (see NodeFSOptions.atomicUploads). Default off, as OpenSSH. */
  atomicUploads?: boolean;
}

/**
 * The local disk, rooted at a directory: FS path `/a/b` is `root/a/b`.
 *
 * The root is a jail. The OS follows symlinks, so before each operation the
 * path is resolved (its parent's components below the root lstat'ed, and
 * when one is a symlink or missing, `realpath` of the parent or of its
 * nearest existing ancestor; then the last component followed when it is a
 * symlink, dangling or not) and an operation that would land outside the
 * root fails with PermissionDenied. The root itself is resolved once, at
 * construction: the jail is against what clients can make, links inside it;
 * whoever can rename the root's parent directories chooses the root anyway.
 * Operations that do not
 * follow a final symlink (lstat, readlink, remove, rmdir, rename, mkdir,
 * symlink, link) check only the parent. The check happens when a file is
 * opened, never per read or write, and the file is then opened by its resolved
 * path with O_NOFOLLOW, so a link swapped in after the check is refused too.
 * Swapping an intermediate directory for a symlink between check and use
 * remains possible: Node has no openat2(RESOLVE_BENEATH).
 *
 * Symlink targets are FS paths, as the FS contract (and a chrooted OpenSSH)
 * reads them: a relative target is stored as given; an absolute one, such as
 * `/data/x`, is stored on disk under the root (`<root>/data/x`) so that the OS
 * follows it to the same place, and `readlink` strips the root again, so a
 * client gets back exactly what it stored. A link already on the disk whose
 * target lies outside the root (`/etc`, `../outside`) is shown verbatim by
 * `readlink`, but following it (stat, open, listdir, a path through it) fails
 * with PermissionDenied. We deviate from storing absolute targets verbatim (as
 * an un-chrooted OpenSSH does) because the OS would then read `/data/x` as a
 * host path, and every absolute link a client made would point out of the
 * jail. `realpath` returns paths relative to the root.
 *
 * With root `/` there is nothing to escape: no checks are made and every
 * operation is a plain fs call.
 */
export class LocalFS extends NodeFS {
  /** Real (symlink-free) path of the root on the host. */
  readonly root: string;
  private readonly jailed: boolean;

  constructor(options: LocalFSOptions) {
    // Resolved once, so that containment compares real paths with a real root.
    let root: string;
    try {
      root = fse.realpathSync(normalizePath(options.root));
    } catch (err) {
      throw fromErrno(err, options.root);
    }
    super(fse, { root, atomicUploads: options.atomicUploads });
    this.root = root;
    this.jailed = root !== '/';
  }

  /** The FS path of a host path inside the root, or undefined when it lies outside. */
  pathOfHost(hostPath: string): string | undefined {
    const absolute = posix.resolve(hostPath);
    if (!isInside(this.root, absolute)) return undefined;
    return this.jailed ? normalizePath(absolute.slice(this.root.length)) : absolute;
  }

  /** The host's account names: a local disk reports the host's uids and gids. */
  override accountNames(): Promise<AccountNames> {
    return systemAccountNames();
  }

  protected override async hostPath(path: string, follow: boolean): Promise<string> {
    return (await this.resolve(path, follow)).host;
  }

  /** A final symlink needs no look here: opens carry O_NOFOLLOW (extraOpenFlags), so the kernel refuses one with ELOOP, and NodeFS.open resolves it then. */
  protected override hostPathToOpen(path: string): Promise<string> {
    return this.hostPath(path, false);
  }

  /** Answers from the lstat the jail check made of the last component, when that was not a symlink: stat would find the same. */
  protected override async statHost(path: string): Promise<NodeStatsLike> {
    const { host, last } = await this.resolve(path, true);
    return last ?? this.sys.stat(host);
  }

  /**
   * The host path for FS `path` (see the class comment), with, when `follow`
   * found an existing last component that is not a symlink, its lstat.
   */
  private async resolve(path: string, follow: boolean): Promise<{ host: string; last?: NodeStatsLike }> {
    const host = await super.hostPath(path, follow);
    if (!this.jailed || host === this.root) return { host };
    // `host` is normalised and below the root, so its last slash splits it into parent and name.
    const slash = host.lastIndexOf('/');
    const parent = await this.resolveParent(host.slice(0, slash), path);
    const candidate = `${parent === '/' ? '' : parent}/${host.slice(slash + 1)}`;
    if (!follow) return { host: candidate };
    // Under a real parent, only a symlink as the last component can lead elsewhere. Asking that
    // (one lstat, no error object when the name is new) is cheaper than realpath of the whole
    // path, which for a new upload failed, and then had to look again.
    const last = await this.sys.lstatOrMissing(candidate).catch(() => undefined);
    if (last === undefined) return { host: candidate };
    if (kindOf(last) !== S_IFLNK) return { host: candidate, last };
    return { host: await this.resolveInside(candidate, path, 0) };
  }

  /**
   * The real path of `parent`, a host path below the root. When every
   * component below the root is a directory (one lstat each, where realpath
   * would readlink every component from `/`), that is `parent` itself;
   * a symlink or a missing component goes to the full resolution.
   */
  private async resolveParent(parent: string, path: string): Promise<string> {
    if (parent === this.root) return parent;
    for (let end = parent.indexOf('/', this.root.length + 1); ; end = parent.indexOf('/', end + 1)) {
      const stats = await this.sys.lstatOrMissing(end === -1 ? parent : parent.slice(0, end)).catch(() => undefined);
      if (stats === undefined || kindOf(stats) !== S_IFDIR) return this.resolveInside(parent, path, 0);
      if (end === -1) return parent;
    }
  }

  protected override extraOpenFlags(): number {
    return this.jailed ? (fse.constants.O_NOFOLLOW ?? 0) : 0;
  }

  /**
   * The real host path an operation following symlinks would reach from
   * `host`, even when it does not exist yet; PermissionDenied when that is
   * outside the root.
   */
  private async resolveInside(host: string, path: string, hops: number): Promise<string> {
    let real: string;
    try {
      real = await this.sys.realpath(host);
    } catch (err) {
      const parentHost = posix.dirname(host);
      if (host === this.root || parentHost === host) throw fromErrno(err, path);
      // Missing (or not a directory): resolve the parent, then see whether the last component is a dangling link.
      const parent = await this.resolveInside(parentHost, path, hops);
      const candidate = posix.join(parent, posix.basename(host));
      let target: string;
      try {
        target = await this.sys.readlink(candidate);
      } catch {
        // Not a link: the operation itself will report what is wrong with it.
        return candidate;
      }
      if (hops >= MAX_SYMLINK_HOPS) throw new InvalidPath(path, { message: 'Too many levels of symbolic links' });
      return this.resolveInside(posix.resolve(parent, target), path, hops + 1);
    }
    if (!isInside(this.root, real)) throw new PermissionDenied(path, { message: 'Path resolves outside the exposed root' });
    return real;
  }
}
