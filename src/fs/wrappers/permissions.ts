import { PermissionDenied, ResourceNotFound } from '../errors.js';
import type { FS } from '../FS.js';
import { isInside, normalizePath, splitPath } from '../path.js';
import type { DirEntry, FileHandle, HashAlgorithm, OpenFlags, SetAttributes, StatVFS } from '../types.js';
import { WrapFileHandle, WrapFS } from './WrapFS.js';

/** What a user may do under a path. */
export const PERMISSIONS = ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'mkdir', 'symlink', 'setstat'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Path → permissions granted there and below; `'*'` in a list grants all of them. */
export type PermissionRules = Record<string, ReadonlyArray<Permission | '*'>> | ReadonlyMap<string, Iterable<Permission | '*'>>;

interface Rule {
  path: string;
  granted: ReadonlySet<Permission>;
}

/** An open file: `setstat` on it needs the same permissions as on the path. */
class PermissionsFileHandle extends WrapFileHandle {
  constructor(inner: FileHandle, private readonly path: string, private readonly owner: PermissionsFS) {
    super(inner);
  }

  override async setstat(attrs: SetAttributes): Promise<void> {
    this.owner.requireForSetstat(this.path, attrs);
    return this.inner.setstat(attrs);
  }
}

/**
 * Any FS with per-path permissions, as SFTPGo has them: each rule grants a
 * set of {@link Permission}s to a path and everything below it; the rule with
 * the longest matching path decides. Paths no rule covers get every
 * permission (add a rule for `/` to change that default). A refused
 * operation fails with `PermissionDenied` naming the missing permission.
 *
 * - `list`: listing a directory (and statvfs). `stat`, `lstat`, `realpath`
 *   and `readlink` are always allowed, so clients can find their way.
 * - `download`: opening for reading, hashing, the source of a copy.
 * - `upload`: creating a new file. `overwrite`: writing to an existing one
 *   (truncating, appending, resuming), or a setstat that changes the size.
 * - `delete`: remove and rmdir. `rename`: source and target of a rename; a
 *   rename onto an existing file also needs `overwrite` there.
 * - `mkdir`, `symlink` (symlinks and hard links), `setstat` (modes, times, owners).
 *
 * Whether a file exists is asked of the inner FS just before a write opens
 * it; a file created in between by someone else counts as new.
 *
 * ```ts
 * const fs = new PermissionsFS(inner, { '/': ['list', 'download'], '/incoming': ['list', 'upload', 'mkdir'] });
 * ```
 */
export class PermissionsFS extends WrapFS {
  /** Rules, longest path first, so the first match is the most specific. */
  private readonly rules: Rule[];

  constructor(inner: FS, rules: PermissionRules) {
    super(inner);
    const entries = rules instanceof Map ? [...rules.entries()] : Object.entries(rules as Record<string, ReadonlyArray<Permission | '*'>>);
    this.rules = entries
      .map(([path, granted]) => {
        const list = [...granted];
        return { path: normalizePath(path), granted: new Set<Permission>(list.includes('*') ? PERMISSIONS : (list as Permission[])) };
      })
      .sort((a, b) => splitPath(b.path).length - splitPath(a.path).length);
    if (typeof inner.statvfs === 'function') {
      const statvfs = inner.statvfs.bind(inner);
      this.statvfs = async (path: string): Promise<StatVFS> => {
        this.require(path, 'list');
        return statvfs(path);
      };
    }
    if (typeof inner.hash === 'function') {
      const hash = inner.hash.bind(inner);
      this.hash = async (path: string, algorithm: HashAlgorithm, offset: number, length: number) => {
        this.require(path, 'download');
        return hash(path, algorithm, offset, length);
      };
    }
    if (typeof inner.copy === 'function') {
      const copy = inner.copy.bind(inner);
      this.copy = async (from: string, to: string, overwrite: boolean) => {
        this.require(from, 'download');
        await this.requireForWrite(to);
        return copy(from, to, overwrite);
      };
    }
    if (typeof inner.link === 'function') {
      const link = inner.link.bind(inner);
      this.link = async (target: string, linkPath: string) => {
        this.require(linkPath, 'symlink');
        return link(target, linkPath);
      };
    }
  }

  /** The permissions granted at `path` (by the longest matching rule; all when none matches). */
  permissionsAt(path: string): ReadonlySet<Permission> {
    const normal = normalizePath(path);
    return this.rules.find((rule) => isInside(rule.path, normal))?.granted ?? new Set(PERMISSIONS);
  }

  /** Throws PermissionDenied unless `permission` is granted at `path`. */
  require(path: string, permission: Permission): void {
    if (!this.permissionsAt(path).has(permission)) throw new PermissionDenied(path, { message: `Permission denied (no "${permission}" permission)` });
  }

  /** A setstat: `setstat`, plus `overwrite` when it changes the size. */
  requireForSetstat(path: string, attrs: SetAttributes): void {
    const changesMetadata = attrs.permissions !== undefined || attrs.uid !== undefined || attrs.gid !== undefined || attrs.atime !== undefined || attrs.mtime !== undefined;
    if (changesMetadata) this.require(path, 'setstat');
    if (attrs.size !== undefined) this.require(path, 'overwrite');
  }

  /** Writing to `path`: `overwrite` when it exists, `upload` when it does not. */
  private async requireForWrite(path: string): Promise<void> {
    const granted = this.permissionsAt(path);
    // Skip the existence check when the answer would not matter.
    if (granted.has('upload') && granted.has('overwrite')) return;
    this.require(path, (await this.existsNoFollow(path)) ? 'overwrite' : 'upload');
  }

  private async existsNoFollow(path: string): Promise<boolean> {
    try {
      await this.inner.lstat(path);
      return true;
    } catch (error) {
      if (error instanceof ResourceNotFound) return false;
      throw error;
    }
  }

  override async open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle> {
    if (flags.read) this.require(path, 'download');
    if (flags.write || flags.create || flags.truncate || flags.append) await this.requireForWrite(path);
    return new PermissionsFileHandle(await this.inner.open(path, flags, attrs), path, this);
  }

  override listdir(path: string): AsyncIterable<DirEntry> {
    this.require(path, 'list');
    return this.inner.listdir(path);
  }

  override async setstat(path: string, attrs: SetAttributes): Promise<void> {
    this.requireForSetstat(path, attrs);
    return this.inner.setstat(path, attrs);
  }

  override async mkdir(path: string, attrs?: SetAttributes): Promise<void> {
    this.require(path, 'mkdir');
    return this.inner.mkdir(path, attrs);
  }

  override async rmdir(path: string): Promise<void> {
    this.require(path, 'delete');
    return this.inner.rmdir(path);
  }

  override async remove(path: string): Promise<void> {
    this.require(path, 'delete');
    return this.inner.remove(path);
  }

  override async rename(from: string, to: string): Promise<void> {
    this.require(from, 'rename');
    this.require(to, 'rename');
    return this.inner.rename(from, to);
  }

  override async posixRename(from: string, to: string): Promise<void> {
    this.require(from, 'rename');
    this.require(to, 'rename');
    if (!this.permissionsAt(to).has('overwrite') && (await this.existsNoFollow(to))) this.require(to, 'overwrite');
    return this.inner.posixRename(from, to);
  }

  override async symlink(target: string, linkPath: string): Promise<void> {
    this.require(linkPath, 'symlink');
    return this.inner.symlink(target, linkPath);
  }
}
