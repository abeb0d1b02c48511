import { InvalidArgument, PermissionDenied } from '../errors.js';
import { FS } from '../FS.js';
import { basename, dirname, isInside, joinPath, normalizePath } from '../path.js';
import type { AccountNames, DirEntry, FileHandle, HashAlgorithm, OpenFlags, SetAttributes, StatVFS, Stats } from '../types.js';

/** True when `fs` keeps the base class's refusing `symlink`/`readlink`: it has no links to escape by. */
function lacksSymlinks(fs: FS): boolean {
  return fs.symlink === FS.prototype.symlink && fs.readlink === FS.prototype.readlink;
}

/**
 * Any FS re-rooted at one of its directories, as `chroot` does: clients see
 * `root` as `/` and cannot reach anything outside it.
 *
 * - `..` cannot climb out: paths are normalised (`/../x` is `/x`) before the
 *   root is prefixed.
 * - Symbolic links are resolved by the inner FS, and the result is checked:
 *   a link that leads outside the sub-tree (`../../etc`, or an absolute target
 *   made outside this view) is refused with `PermissionDenied`, whoever made it.
 * - Absolute link targets are re-rooted: `symlink('/a', ...)` stores
 *   `<root>/a` in the inner FS, and `readlink` shows `/a` again, so links made
 *   through the view work through the view (and also on the inner FS).
 *
 * Operations that follow links (`open`, `stat`, `setstat`, `listdir`, ...)
 * resolve the whole path first; the others (`lstat`, `remove`, `rename`,
 * `readlink`, `symlink`) resolve only the parent. An inner FS without symlink
 * support skips that resolution (nothing could escape), so a SubFS over S3 or
 * WebDAV costs no extra round trips. As with any user-space confinement, a
 * link swapped in between the check and the operation is not caught: do not
 * give untrusted parties other write access to the same tree.
 *
 * Optional capabilities are kept exactly when the inner FS has them.
 *
 * ```ts
 * const home = new SubFS(new LocalFS({ root: '/srv/sftp' }), `/home/${user}`);
 * ```
 */
export class SubFS extends FS {
  /** The directory of the inner FS that this view shows as `/` (normalised). */
  readonly root: string;
  private readonly checksLinks: boolean;
  /** The root with links resolved (the root itself may be reached through one), found on first use. */
  private canonicalRoot?: Promise<string>;

  constructor(readonly inner: FS, root: string) {
    super();
    this.root = normalizePath(root);
    this.checksLinks = !lacksSymlinks(inner);
    if (typeof inner.statvfs === 'function') {
      const statvfs = inner.statvfs.bind(inner);
      this.statvfs = async (path: string): Promise<StatVFS> => statvfs(await this.resolve(path));
    }
    if (typeof inner.hash === 'function') {
      const hash = inner.hash.bind(inner);
      this.hash = async (path: string, algorithm: HashAlgorithm, offset: number, length: number) => hash(await this.resolve(path), algorithm, offset, length);
    }
    if (typeof inner.copy === 'function') {
      const copy = inner.copy.bind(inner);
      this.copy = async (from: string, to: string, overwrite: boolean) => copy(await this.resolve(from), await this.resolveParent(to), overwrite);
    }
    if (typeof inner.link === 'function') {
      const link = inner.link.bind(inner);
      this.link = async (target: string, linkPath: string) => link(await this.resolve(target), await this.resolveParent(linkPath));
    }
    if (typeof inner.accountNames === 'function') {
      this.accountNames = inner.accountNames.bind(inner) as () => Promise<AccountNames>;
    }
  }

  override get isReadOnly(): boolean {
    return this.inner.isReadOnly;
  }

  /** The inner path for a path of this view, by text alone (no links followed). */
  private toInner(path: string): string {
    return joinPath(this.root, normalizePath(path));
  }

  /** The view's path for an inner path inside `root`. */
  private static toOuter(root: string, innerPath: string): string {
    return root === '/' ? innerPath : normalizePath(innerPath.slice(root.length));
  }

  private resolvedRoot(): Promise<string> {
    this.canonicalRoot ??= this.inner.realpath(this.root).catch((err: unknown) => {
      this.canonicalRoot = undefined; // a root created later must still be found
      throw err;
    });
    return this.canonicalRoot;
  }

  /** Refuses an inner path (after link resolution) that left the sub-tree. */
  private async confine(innerPath: string, asked: string): Promise<string> {
    if (!isInside(await this.resolvedRoot(), innerPath)) {
      throw new PermissionDenied(asked, { message: 'Symbolic link leads outside the shared directory' });
    }
    return innerPath;
  }

  /** The inner path with every link resolved, checked to stay inside. */
  private async resolve(path: string): Promise<string> {
    const innerPath = this.toInner(path);
    if (!this.checksLinks) return innerPath;
    return this.confine(await this.inner.realpath(innerPath), path);
  }

  /** The inner path with links in the parent resolved; the last component is taken as it is. */
  private async resolveParent(path: string): Promise<string> {
    const innerPath = this.toInner(path);
    if (!this.checksLinks || innerPath === this.root) return innerPath;
    const parent = await this.confine(await this.inner.realpath(dirname(innerPath)), path);
    return joinPath(parent, basename(innerPath));
  }

  async open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle> {
    // An exclusive create never follows a final link (O_EXCL): the inner FS sees the link itself.
    const target = flags.create && flags.exclusive ? await this.resolveParent(path) : await this.resolve(path);
    return this.inner.open(target, flags, attrs);
  }

  async *listdir(path: string): AsyncIterable<DirEntry> {
    yield* this.inner.listdir(await this.resolve(path));
  }

  async stat(path: string): Promise<Stats> {
    return this.inner.stat(await this.resolve(path));
  }

  override async lstat(path: string): Promise<Stats> {
    return this.inner.lstat(await this.resolveParent(path));
  }

  async setstat(path: string, attrs: SetAttributes): Promise<void> {
    return this.inner.setstat(await this.resolve(path), attrs);
  }

  async mkdir(path: string, attrs?: SetAttributes): Promise<void> {
    return this.inner.mkdir(await this.resolveParent(path), attrs);
  }

  async rmdir(path: string): Promise<void> {
    if (normalizePath(path) === '/') throw new PermissionDenied(path, { message: 'The root of a sub-directory view cannot be removed' });
    return this.inner.rmdir(await this.resolveParent(path));
  }

  async remove(path: string): Promise<void> {
    return this.inner.remove(await this.resolveParent(path));
  }

  override async rename(from: string, to: string): Promise<void> {
    this.refuseMovingRoot(from, to);
    return this.inner.rename(await this.resolveParent(from), await this.resolveParent(to));
  }

  async posixRename(from: string, to: string): Promise<void> {
    this.refuseMovingRoot(from, to);
    return this.inner.posixRename(await this.resolveParent(from), await this.resolveParent(to));
  }

  private refuseMovingRoot(from: string, to: string): void {
    if (normalizePath(from) === '/' || normalizePath(to) === '/') {
      throw new InvalidArgument(normalizePath(from) === '/' ? from : to, { message: 'The root of a sub-directory view cannot be renamed or replaced' });
    }
  }

  override async symlink(target: string, linkPath: string): Promise<void> {
    // Absolute targets mean this view's root, as inside a chroot.
    const stored = target.startsWith('/') ? joinPath(this.root, target) : target;
    return this.inner.symlink(stored, await this.resolveParent(linkPath));
  }

  override async readlink(path: string): Promise<string> {
    const stored = await this.inner.readlink(await this.resolveParent(path));
    if (!stored.startsWith('/')) return stored;
    // A target outside the root is shown as stored; following it is refused all the same.
    return isInside(this.root, normalizePath(stored)) ? SubFS.toOuter(this.root, normalizePath(stored)) : stored;
  }

  override async realpath(path: string): Promise<string> {
    const resolved = await this.resolve(path);
    return SubFS.toOuter(this.checksLinks ? await this.resolvedRoot() : this.root, resolved);
  }

  /** Closes the inner FS: the wrapper owns what it wraps (share one by not closing the view). */
  override close(): Promise<void> {
    return this.inner.close();
  }
}
