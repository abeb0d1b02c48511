import { createHash } from 'node:crypto';
import { totalmem } from 'node:os';
import {
  AlreadyExists,
  DirectoryNotEmpty,
  InvalidArgument,
  InvalidPath,
  IsADirectory,
  NotADirectory,
  PermissionDenied,
  ResourceNotFound,
  Unsupported,
} from '../fs/errors.js';
import { FS } from '../fs/FS.js';
import { isInside, joinPath, normalizePath, splitPath } from '../fs/path.js';
import type { DirEntry, FileHandle, HashAlgorithm, OpenFlags, SetAttributes, StatVFS, Stats } from '../fs/types.js';
import { MemoryFileHandle } from './memory/handle.js';
import { nowSeconds, statsOf, type DirectoryNode, type FileNode, type Metadata, type Node } from './memory/inode.js';
import { MemoryStorage } from './memory/storage.js';

/** Options for {@link MemoryFS}. */
export interface MemoryFSOptions {
  /** Owner of everything created (default: the current process's uid, or 0). */
  uid?: number;
  /** Group of everything created (default: the current process's gid, or 0). */
  gid?: number;
  /** Bytes of file content the FS accepts before failing with InsufficientStorage (default: the machine's RAM). */
  capacity?: number;
}

/** As Linux: NAME_MAX bytes per component, MAXSYMLINKS hops per path walk. */
const NAME_MAX = 255;
const MAX_SYMLINK_HOPS = 40;
const BLOCK_SIZE = 4096;
const MAX_INODES = 2 ** 32;

let nextFsid = 1;

/** Where a path walk ended: the directory holding the last component, and what (if anything) is there. */
interface Location {
  parent: DirectoryNode;
  name: string;
  node: Node | undefined;
  /** Canonical path of the location, symlinks in the parent chain resolved. */
  realPath: string;
}

/**
 * A complete POSIX-like filesystem in memory: files with holes, directories,
 * symlinks, hard links, permissions, ownership and times, with handles that
 * survive unlink. Permissions are stored and reported but not enforced: every
 * caller acts as the owner. Useful for tests, demos and scratch servers.
 */
export class MemoryFS extends FS {
  private readonly uid: number;
  private readonly gid: number;
  private readonly storage: MemoryStorage;
  private readonly root: DirectoryNode;
  private readonly fsid = nextFsid++;

  constructor(options: MemoryFSOptions = {}) {
    super();
    this.uid = options.uid ?? process.getuid?.() ?? 0;
    this.gid = options.gid ?? process.getgid?.() ?? 0;
    const capacity = options.capacity ?? totalmem();
    if (!(capacity >= 0)) throw new RangeError(`capacity must be a non-negative number, got ${capacity}`);
    this.storage = new MemoryStorage(capacity);
    this.root = this.newDirectory(0o755);
  }

  async open(path: string, flags: OpenFlags, attrs: SetAttributes = {}): Promise<FileHandle> {
    // O_EXCL never follows a final symlink: a dangling link counts as existing.
    if (flags.create && flags.exclusive && this.locate(path, false).node) throw new AlreadyExists(path);
    const location = this.locate(path, true);
    let node = location.node;
    if (node === undefined) {
      if (!flags.create) throw new ResourceNotFound(path);
      node = this.storage.newFile(this.newMetadata(attrs.permissions ?? 0o644));
      this.attach(location.parent, location.name, node);
    } else if (node.kind !== 'file') {
      throw new IsADirectory(path);
    } else if (flags.truncate && flags.write) {
      this.storage.resize(node, 0, path);
    }
    return new MemoryFileHandle(node, flags, path, this.storage, (file, changes, where) => this.applyAttributes(file, changes, where));
  }

  async *listdir(path: string): AsyncGenerator<DirEntry> {
    const directory = this.existing(path, true);
    if (directory.kind !== 'directory') throw new NotADirectory(path);
    // A snapshot of names, stat'ed as consumed: entries removed meanwhile are skipped.
    const names = [...directory.entries.keys()];
    for (const name of names) {
      const child = directory.entries.get(name);
      if (child !== undefined) yield { name, stats: statsOf(child) };
    }
  }

  async stat(path: string): Promise<Stats> {
    return statsOf(this.existing(path, true));
  }

  override async lstat(path: string): Promise<Stats> {
    return statsOf(this.existing(path, false));
  }

  async setstat(path: string, attrs: SetAttributes): Promise<void> {
    this.applyAttributes(this.existing(path, true), attrs, path);
  }

  async mkdir(path: string, attrs: SetAttributes = {}): Promise<void> {
    const location = this.vacant(path);
    this.attach(location.parent, location.name, this.newDirectory(attrs.permissions ?? 0o755));
  }

  async rmdir(path: string): Promise<void> {
    const location = this.locate(path, false);
    const node = location.node;
    if (node === undefined) throw new ResourceNotFound(path);
    if (node === this.root) throw new PermissionDenied(path, { message: 'Cannot remove the root directory' });
    if (node.kind !== 'directory') throw new NotADirectory(path);
    if (node.entries.size > 0) throw new DirectoryNotEmpty(path);
    this.unlink(location);
  }

  async remove(path: string): Promise<void> {
    const location = this.locate(path, false);
    if (location.node === undefined) throw new ResourceNotFound(path);
    if (location.node.kind === 'directory') throw new IsADirectory(path);
    this.unlink(location);
  }

  async posixRename(from: string, to: string): Promise<void> {
    const source = this.locate(from, false);
    const node = source.node;
    if (node === undefined) throw new ResourceNotFound(from);
    const target = this.locate(to, false);
    if (node === this.root || target.node === this.root) throw new InvalidArgument(from, { message: 'Cannot rename the root directory' });
    // rename(2): two names of one inode (or one name twice) is a successful no-op.
    if (target.node === node) return;
    if (node.kind === 'directory' && isInside(source.realPath, target.realPath)) {
      throw new InvalidArgument(to, { message: 'Cannot move a directory inside itself' });
    }
    if (target.node !== undefined) {
      if (node.kind === 'directory') {
        if (target.node.kind !== 'directory') throw new NotADirectory(to);
        if (target.node.entries.size > 0) throw new DirectoryNotEmpty(to);
      } else if (target.node.kind === 'directory') {
        throw new IsADirectory(to);
      }
      this.unlink(target);
    }
    // Attach before detach so a file's link count never touches zero mid-move.
    this.attach(target.parent, target.name, node);
    this.detach(source.parent, source.name);
  }

  override async symlink(target: string, linkPath: string): Promise<void> {
    if (target.includes('\0')) throw new InvalidPath(linkPath, { message: 'Symlink target contains a NUL byte' });
    if (target === '') throw new ResourceNotFound(linkPath, { message: 'Empty symlink target' });
    const location = this.vacant(linkPath);
    this.storage.inodes++;
    this.attach(location.parent, location.name, { kind: 'symlink', meta: this.newMetadata(0o777), target });
  }

  override async readlink(path: string): Promise<string> {
    const node = this.existing(path, false);
    if (node.kind !== 'symlink') throw new InvalidArgument(path, { message: 'Not a symbolic link' });
    return node.target;
  }

  /** The same walk every other operation does, so realpath and open always agree. */
  override async realpath(path: string): Promise<string> {
    return this.locate(path, true).realPath;
  }

  override async statvfs(_path: string): Promise<StatVFS> {
    const blocks = Math.floor(this.storage.capacity / BLOCK_SIZE);
    const free = Math.max(0, blocks - Math.ceil(this.storage.used / BLOCK_SIZE));
    const filesFree = Math.max(0, MAX_INODES - this.storage.inodes);
    return {
      blockSize: BLOCK_SIZE,
      fragmentSize: BLOCK_SIZE,
      blocks,
      blocksFree: free,
      blocksAvailable: free,
      files: MAX_INODES,
      filesFree,
      filesAvailable: filesFree,
      fsid: this.fsid,
      readOnly: false,
      nameMax: NAME_MAX,
    };
  }

  override async hash(path: string, algorithm: HashAlgorithm, offset: number, length: number): Promise<Buffer> {
    const file = this.existingFile(path);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new InvalidArgument(path, { message: `Invalid hash range (${offset}, ${length})` });
    }
    const end = length === 0 ? file.size : Math.min(file.size, offset + length);
    const hash = createHash(algorithm);
    file.content.forEachSlice(Math.min(offset, end), end, (slice) => hash.update(slice));
    return hash.digest();
  }

  override async copy(from: string, to: string, overwrite: boolean): Promise<void> {
    const source = this.existingFile(from);
    const target = this.locate(to, true);
    let file = target.node;
    if (file === source) return;
    if (file !== undefined) {
      if (!overwrite) throw new AlreadyExists(to);
      if (file.kind !== 'file') throw new IsADirectory(to);
      // Overwrite in place, as cp(1) does: other hard links to the target see the new content.
      this.storage.resize(file, 0, to);
    } else {
      file = this.storage.newFile(this.newMetadata(source.meta.permissions));
      this.attach(target.parent, target.name, file);
    }
    let position = 0;
    source.content.forEachSlice(0, source.size, (slice) => {
      this.storage.write(file, position, slice, to);
      position += slice.length;
    });
  }

  override async link(target: string, linkPath: string): Promise<void> {
    const node = this.existing(target, false);
    if (node.kind === 'directory') throw new PermissionDenied(target, { message: 'Hard links to directories are not allowed' });
    if (node.kind === 'symlink') throw new Unsupported(target, { message: 'Hard links to symbolic links are not supported' });
    const location = this.vacant(linkPath);
    this.attach(location.parent, location.name, node);
  }

  /**
   * Walks `path` from the root, following symlinks in every component but the
   * last (and the last too when `followFinal`). A missing last component is
   * not an error, so callers can create it; anything missing before it is.
   */
  private locate(path: string, followFinal: boolean): Location {
    let parts = splitPath(normalizePath(path));
    let directory = this.root;
    let directoryPath = '/';
    let hops = 0;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      if (Buffer.byteLength(name) > NAME_MAX) throw new InvalidPath(path, { message: 'File name too long' });
      const last = i === parts.length - 1;
      const node = directory.entries.get(name);
      if (node?.kind === 'symlink' && (!last || followFinal)) {
        if (++hops > MAX_SYMLINK_HOPS) throw new InvalidPath(path, { message: 'Too many levels of symbolic links' });
        // Restart from the root with the target spliced in; relative targets resolve against the link's directory.
        parts = splitPath(normalizePath([node.target, ...parts.slice(i + 1)].join('/'), directoryPath));
        directory = this.root;
        directoryPath = '/';
        i = -1;
        continue;
      }
      if (last) return { parent: directory, name, node, realPath: joinPath(directoryPath, name) };
      if (node === undefined) throw new ResourceNotFound(path);
      if (node.kind !== 'directory') throw new NotADirectory(path);
      directory = node;
      directoryPath = joinPath(directoryPath, name);
    }
    return { parent: this.root, name: '', node: this.root, realPath: '/' };
  }

  private existing(path: string, followFinal: boolean): Node {
    const node = this.locate(path, followFinal).node;
    if (node === undefined) throw new ResourceNotFound(path);
    return node;
  }

  private existingFile(path: string): FileNode {
    const node = this.existing(path, true);
    if (node.kind !== 'file') throw new IsADirectory(path);
    return node;
  }

  /** A location where something new may be created: its name must be free (a dangling symlink is not free). */
  private vacant(path: string): Location {
    const location = this.locate(path, false);
    if (location.node !== undefined) throw new AlreadyExists(path);
    return location;
  }

  private attach(directory: DirectoryNode, name: string, node: Node): void {
    directory.entries.set(name, node);
    if (node.kind === 'directory') directory.subdirectories++;
    if (node.kind === 'file') node.links++;
    directory.meta.mtime = nowSeconds();
  }

  /** Takes a name out of its directory without destroying what it names (the rename half). */
  private detach(directory: DirectoryNode, name: string): Node | undefined {
    const node = directory.entries.get(name);
    if (node === undefined) return undefined;
    directory.entries.delete(name);
    if (node.kind === 'directory') directory.subdirectories--;
    if (node.kind === 'file') node.links--;
    directory.meta.mtime = nowSeconds();
    return node;
  }

  /** Removes a name; the object goes with it once nothing (no name, no open handle) refers to it. */
  private unlink(location: Location): void {
    const node = this.detach(location.parent, location.name);
    if (node?.kind === 'file') this.storage.releaseIfUnreferenced(node);
    else if (node !== undefined) this.storage.inodes--;
  }

  private applyAttributes(node: Node, attrs: SetAttributes, path: string): void {
    if (attrs.size !== undefined) {
      if (node.kind !== 'file') throw new IsADirectory(path);
      if (!Number.isSafeInteger(attrs.size) || attrs.size < 0) throw new InvalidArgument(path, { message: `Invalid size ${attrs.size}` });
      this.storage.resize(node, attrs.size, path);
    }
    const meta = node.meta;
    if (attrs.permissions !== undefined) meta.permissions = attrs.permissions & 0o7777;
    if (attrs.uid !== undefined) meta.uid = attrs.uid;
    if (attrs.gid !== undefined) meta.gid = attrs.gid;
    if (attrs.atime !== undefined) meta.atime = attrs.atime;
    if (attrs.mtime !== undefined) meta.mtime = attrs.mtime;
  }

  private newMetadata(permissions: number): Metadata {
    const now = nowSeconds();
    return { permissions: permissions & 0o7777, uid: this.uid, gid: this.gid, atime: now, mtime: now };
  }

  private newDirectory(permissions: number): DirectoryNode {
    this.storage.inodes++;
    return { kind: 'directory', meta: this.newMetadata(permissions), entries: new Map(), subdirectories: 0 };
  }
}
