import { AlreadyExists, DirectoryNotEmpty, InvalidArgument, PermissionDenied, ResourceNotFound, Unsupported } from '../errors.js';
import { FS } from '../FS.js';
import { isInside, joinPath, normalizePath, splitPath } from '../path.js';
import type { AccountNames, DirEntry, FileHandle, HashAlgorithm, OpenFlags, SetAttributes, StatVFS, Stats } from '../types.js';

/** One filesystem of a {@link MountFS} and where it appears. */
interface Mount {
  /** Normalised mount point, e.g. `/uploads`. */
  point: string;
  fs: FS;
}

/** Where a path of the mount view leads: into a mount, or onto a virtual directory above mount points. */
type Location = { mount: Mount; innerPath: string } | { mount: undefined; innerPath: string };

/** Mount points as given to {@link MountFS}: a record or a map from mount point to FS. */
export type MountTable = Record<string, FS> | ReadonlyMap<string, FS>;

/**
 * Several filesystems composed into one tree at mount points, e.g. `/uploads`
 * on S3 and `/reports` on the local disk.
 *
 * - A path belongs to the mount with the longest matching mount point; a
 *   mount at `/` (optional) gets everything else.
 * - Directories above mount points that no mount provides (`/`, or `/a` for a
 *   mount at `/a/b`) are virtual: they stat as read-only directories, list
 *   their mount points (and deeper virtual directories) as directories, and
 *   refuse to hold anything else (`PermissionDenied`).
 * - A mount point itself cannot be removed or renamed, and a directory holding
 *   one is never empty (`rmdir` fails with `DirectoryNotEmpty`).
 * - Renames, hard links and copies across mounts are refused with `Unsupported`
 *   ("cannot ... across mount points", as rename(2) gives EXDEV): the client
 *   copies and deletes instead, as `mv` does.
 * - Symlink targets are shown in the view's terms: an absolute target stored
 *   in the mount at `/uploads` as `/x` reads back as `/uploads/x`; a link
 *   cannot point into another mount.
 * - Optional capabilities (`statvfs`, `hash`, `copy`, `link`) are offered when
 *   at least one mount has them, and dispatched to the owning mount; on a
 *   mount without one (or a virtual directory) they fail with `Unsupported`.
 *   `accountNames` merges what the mounts know.
 *
 * ```ts
 * const fs = new MountFS({ '/uploads': new S3FS({ bucket: 'in' }), '/reports': new LocalFS({ root: '/srv/reports' }) });
 * ```
 */
export class MountFS extends FS {
  /** Mounts, deepest mount point first, so the first match is the longest. */
  private readonly mounts: Mount[];
  /** When the table was made: the times virtual directories report. */
  private readonly createdAt = Date.now() / 1000;

  constructor(table: MountTable) {
    super();
    const entries = table instanceof Map ? [...table.entries()] : Object.entries(table as Record<string, FS>);
    const seen = new Set<string>();
    this.mounts = [];
    for (const [given, fs] of entries) {
      if (!given.startsWith('/')) throw new InvalidArgument(given, { message: 'A mount point must be an absolute path' });
      const point = normalizePath(given);
      if (seen.has(point)) throw new InvalidArgument(given, { message: 'Mount point given twice' });
      seen.add(point);
      this.mounts.push({ point, fs });
    }
    this.mounts.sort((a, b) => splitPath(b.point).length - splitPath(a.point).length);
    this.offerCapabilities();
  }

  /** The mount points, normalised, in no particular order. */
  get mountPoints(): string[] {
    return this.mounts.map((mount) => mount.point);
  }

  override get isReadOnly(): boolean {
    return this.mounts.length > 0 && this.mounts.every((mount) => mount.fs.isReadOnly);
  }

  private offerCapabilities(): void {
    const has = (name: 'statvfs' | 'hash' | 'copy' | 'link' | 'accountNames') => this.mounts.some((mount) => typeof mount.fs[name] === 'function');
    if (has('statvfs')) {
      this.statvfs = async (path: string): Promise<StatVFS> => {
        const { fs, innerPath } = this.capable(path, 'statvfs');
        return fs.statvfs!(innerPath);
      };
    }
    if (has('hash')) {
      this.hash = async (path: string, algorithm: HashAlgorithm, offset: number, length: number) => {
        const { fs, innerPath } = this.capable(path, 'hash');
        return fs.hash!(innerPath, algorithm, offset, length);
      };
    }
    if (has('copy')) {
      this.copy = async (from: string, to: string, overwrite: boolean) => {
        const [source, target] = this.sameMount(from, to, 'copy');
        const { fs } = this.capable(from, 'copy');
        return fs.copy!(source, target, overwrite);
      };
    }
    if (has('link')) {
      this.link = async (target: string, linkPath: string) => {
        const [source, link] = this.sameMount(target, linkPath, 'hard-link');
        const { fs } = this.capable(target, 'link');
        return fs.link!(source, link);
      };
    }
    if (has('accountNames')) {
      this.accountNames = async (): Promise<AccountNames> => {
        const users = new Map<number, string>();
        const groups = new Map<number, string>();
        for (const mount of this.mounts) {
          const names = await mount.fs.accountNames?.();
          names?.users.forEach((name, id) => users.has(id) || users.set(id, name));
          names?.groups.forEach((name, id) => groups.has(id) || groups.set(id, name));
        }
        return { users, groups };
      };
    }
  }

  private locate(path: string): Location {
    const normal = normalizePath(path);
    for (const mount of this.mounts) {
      if (isInside(mount.point, normal)) {
        return { mount, innerPath: mount.point === '/' ? normal : normalizePath(normal.slice(mount.point.length)) };
      }
    }
    return { mount: undefined, innerPath: normal };
  }

  /** The owning mount of `path`, or Unsupported when it cannot do `capability`. */
  private capable(path: string, capability: 'statvfs' | 'hash' | 'copy' | 'link'): { fs: FS; innerPath: string } {
    const { mount, innerPath } = this.locate(path);
    if (!mount || typeof mount.fs[capability] !== 'function') {
      throw new Unsupported(path, { message: `The filesystem mounted here has no ${capability}` });
    }
    return { fs: mount.fs, innerPath };
  }

  /** Both paths' inner paths, when one mount owns both (refusing virtual paths and mount points as targets). */
  private sameMount(from: string, to: string, verb: string): [string, string] {
    const source = this.locate(from);
    const target = this.locate(to);
    this.refuseMountStructure(from, source);
    this.refuseMountStructure(to, target);
    if (source.mount !== target.mount) {
      throw new Unsupported(from, { message: `Cannot ${verb} across mount points (to ${normalizePath(to)}): copy and delete instead` });
    }
    return [source.innerPath, target.innerPath];
  }

  /** Mount points and virtual directories are part of the table, not of any filesystem: they cannot change. */
  private refuseMountStructure(path: string, location: Location): void {
    if (!location.mount) throw new PermissionDenied(path, { message: 'Virtual directory of the mount table' });
    if (location.innerPath === '/' && location.mount.point !== '/') throw new PermissionDenied(path, { message: 'Mount point' });
    const normal = normalizePath(path);
    if (this.mounts.some((mount) => mount.point !== normal && mount.point !== '/' && isInside(normal, mount.point))) {
      throw new PermissionDenied(path, { message: 'Holds a mount point' });
    }
  }

  /** Names of the mount points and virtual directories directly below `dir`. */
  private mountedChildren(dir: string): Map<string, string> {
    const children = new Map<string, string>();
    const depth = splitPath(dir).length;
    for (const mount of this.mounts) {
      if (mount.point === dir || !isInside(dir, mount.point)) continue;
      const name = splitPath(mount.point)[depth]!;
      const child = joinPath(dir, name);
      // A child that is itself a mount point wins over a virtual directory on the way to a deeper one.
      if (!children.has(name) || child === mount.point) children.set(name, child);
    }
    return children;
  }

  /** True for `/` and every directory on the way to a mount point (mount points included). */
  private isVirtualDirectory(path: string): boolean {
    return path === '/' || this.mounts.some((mount) => isInside(path, mount.point));
  }

  private virtualStats(): Stats {
    return { type: 'directory', size: 0, permissions: 0o555, uid: 0, gid: 0, atime: this.createdAt, mtime: this.createdAt, nlink: 2 };
  }

  async open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle> {
    const { mount, innerPath } = this.locate(path);
    if (!mount) throw this.virtualError(path, flags.write || flags.create);
    return mount.fs.open(innerPath, flags, attrs);
  }

  /** What touching a path outside every mount gives: a virtual directory refuses, anything else is missing. */
  private virtualError(path: string, changes: boolean): Error {
    const normal = normalizePath(path);
    if (this.isVirtualDirectory(normal)) {
      return changes ? new PermissionDenied(path, { message: 'Virtual directory of the mount table' }) : new PermissionDenied(path, { message: 'Is a virtual directory' });
    }
    const parent = normal.slice(0, normal.lastIndexOf('/')) || '/';
    if (changes && this.isVirtualDirectory(parent)) return new PermissionDenied(path, { message: 'Only mount points live in this virtual directory' });
    return new ResourceNotFound(path);
  }

  async *listdir(path: string): AsyncIterable<DirEntry> {
    const normal = normalizePath(path);
    const { mount, innerPath } = this.locate(normal);
    const children = this.mountedChildren(normal);
    if (!mount && children.size === 0) throw new ResourceNotFound(path);
    // Mount points shadow same-named entries of the filesystem below them, as in a kernel.
    if (mount) {
      try {
        for await (const entry of mount.fs.listdir(innerPath)) {
          if (!children.has(entry.name)) yield entry;
        }
      } catch (err) {
        // A directory on the way to a deeper mount point exists even where the filesystem below lacks it.
        if (!(err instanceof ResourceNotFound && children.size > 0)) throw err;
      }
    }
    for (const [name, child] of children) yield { name, stats: await this.mountPointStats(child) };
  }

  /** A mount point lists with its filesystem's root attributes; a virtual (or unreachable) one with virtual ones. */
  private async mountPointStats(point: string): Promise<Stats> {
    const mount = this.mounts.find((candidate) => candidate.point === point);
    if (!mount) return this.virtualStats();
    return mount.fs.stat('/').catch(() => this.virtualStats());
  }

  async stat(path: string): Promise<Stats> {
    return this.statWith(path, (fs, innerPath) => fs.stat(innerPath));
  }

  override async lstat(path: string): Promise<Stats> {
    return this.statWith(path, (fs, innerPath) => fs.lstat(innerPath));
  }

  private async statWith(path: string, statInner: (fs: FS, innerPath: string) => Promise<Stats>): Promise<Stats> {
    const normal = normalizePath(path);
    const { mount, innerPath } = this.locate(normal);
    const virtual = this.isVirtualDirectory(normal) && !this.mounts.some((candidate) => candidate.point === normal);
    if (!mount) {
      if (virtual) return this.virtualStats();
      throw new ResourceNotFound(path);
    }
    try {
      return await statInner(mount.fs, innerPath);
    } catch (err) {
      if (virtual && err instanceof ResourceNotFound) return this.virtualStats();
      throw err;
    }
  }

  async setstat(path: string, attrs: SetAttributes): Promise<void> {
    const { mount, innerPath } = this.locate(path);
    if (!mount) throw this.virtualError(path, true);
    return mount.fs.setstat(innerPath, attrs);
  }

  async mkdir(path: string, attrs?: SetAttributes): Promise<void> {
    const location = this.locate(path);
    if (this.isVirtualDirectory(normalizePath(path))) throw new AlreadyExists(path);
    if (!location.mount) throw this.virtualError(path, true);
    return location.mount.fs.mkdir(location.innerPath, attrs);
  }

  async rmdir(path: string): Promise<void> {
    const normal = normalizePath(path);
    if (this.mountedChildren(normal).size > 0) throw new DirectoryNotEmpty(path, { message: 'Directory holds a mount point' });
    const location = this.locate(normal);
    this.refuseMountStructure(path, location);
    return location.mount!.fs.rmdir(location.innerPath);
  }

  async remove(path: string): Promise<void> {
    const location = this.locate(path);
    this.refuseMountStructure(path, location);
    return location.mount!.fs.remove(location.innerPath);
  }

  override async rename(from: string, to: string): Promise<void> {
    const [source, target] = this.sameMount(from, to, 'rename');
    return this.locate(from).mount!.fs.rename(source, target);
  }

  async posixRename(from: string, to: string): Promise<void> {
    const [source, target] = this.sameMount(from, to, 'rename');
    return this.locate(from).mount!.fs.posixRename(source, target);
  }

  override async symlink(target: string, linkPath: string): Promise<void> {
    const location = this.locate(linkPath);
    this.refuseMountStructure(linkPath, location);
    const mount = location.mount!;
    let stored = target;
    if (target.startsWith('/')) {
      // Stored in the mounted filesystem's own terms, so it also works there.
      const destination = this.locate(target);
      if (destination.mount !== mount) throw new Unsupported(linkPath, { message: `A symbolic link cannot point into another mount (${target})` });
      stored = destination.innerPath;
    }
    return mount.fs.symlink(stored, location.innerPath);
  }

  override async readlink(path: string): Promise<string> {
    const { mount, innerPath } = this.locate(path);
    if (!mount) throw this.isVirtualDirectory(innerPath) ? new InvalidArgument(path, { message: 'Not a symbolic link' }) : new ResourceNotFound(path);
    const stored = await mount.fs.readlink(innerPath);
    return stored.startsWith('/') ? joinPath(mount.point, stored) : stored;
  }

  override async realpath(path: string): Promise<string> {
    const { mount, innerPath } = this.locate(path);
    if (!mount) {
      const normal = normalizePath(path);
      if (this.isVirtualDirectory(normal) || this.isVirtualDirectory(normal.slice(0, normal.lastIndexOf('/')) || '/')) return normal;
      throw new ResourceNotFound(path);
    }
    return joinPath(mount.point, await mount.fs.realpath(innerPath));
  }

  /** Closes every mounted filesystem (all are tried; the first failure is reported). */
  override async close(): Promise<void> {
    const results = await Promise.allSettled(this.mounts.map((mount) => mount.fs.close()));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
