import { AlreadyExists, InvalidPath, ResourceNotFound, Unsupported } from './errors.js';
import { joinPath, normalizePath, splitPath } from './path.js';
import type { AccountNames, DirEntry, FileHandle, HashAlgorithm, OpenFlags, SetAttributes, StatVFS, Stats } from './types.js';
import { parseOpenFlags } from './types.js';

/** How many symlinks `realpath` follows before it gives up (as Linux's MAXSYMLINKS). */
const MAX_SYMLINK_HOPS = 40;

/**
 * A filesystem to expose. Paths given to every method are absolute and
 * normalised (see `normalizePath`); errors are `FSError` subclasses.
 *
 * A backend implements the abstract methods; the base class derives the rest
 * (`rename` from `posixRename`, `realpath` from `lstat`/`readlink`, ...).
 * Optional capabilities (`statvfs`, `hash`, `copy`, `link`) exist only when a
 * backend defines them, so the server can advertise exactly what works.
 */
export abstract class FS {
  /** Opens (and with `flags.create` creates) a file. `attrs` apply to a new file. */
  abstract open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle>;
  /**
   * Lists a directory, entries with their attributes (not following symlinks),
   * without `.` and `..`. Produced lazily: a huge directory is never held whole.
   */
  abstract listdir(path: string): AsyncIterable<DirEntry>;
  /** Attributes, following symlinks. */
  abstract stat(path: string): Promise<Stats>;
  abstract setstat(path: string, attrs: SetAttributes): Promise<void>;
  abstract mkdir(path: string, attrs?: SetAttributes): Promise<void>;
  /** Removes an empty directory (DirectoryNotEmpty otherwise). */
  abstract rmdir(path: string): Promise<void>;
  /** Removes a file or symlink (IsADirectory for a directory). */
  abstract remove(path: string): Promise<void>;
  /** Renames, replacing an existing target as rename(2) does. */
  abstract posixRename(from: string, to: string): Promise<void>;

  /** Attributes without following a final symlink; the same as `stat` where there are none. */
  lstat(path: string): Promise<Stats> {
    return this.stat(path);
  }

  /** Renames, failing with AlreadyExists when the target exists (SFTP v3 semantics). */
  async rename(from: string, to: string): Promise<void> {
    if (await this.exists(to, { followSymlinks: false })) throw new AlreadyExists(to);
    await this.posixRename(from, to);
  }

  /** Creates `linkPath` pointing at `target` (stored as given, may be relative). */
  async symlink(target: string, linkPath: string): Promise<void> {
    throw new Unsupported(linkPath, { message: `Symbolic links are not supported (target ${target})` });
  }

  async readlink(path: string): Promise<string> {
    throw new Unsupported(path, { message: 'Symbolic links are not supported' });
  }

  /**
   * Canonical absolute path with symlinks resolved. As OpenSSH's sftp-server
   * does, the last component may not exist yet; a missing parent is an error.
   */
  async realpath(path: string): Promise<string> {
    let resolved = '/';
    let pending = splitPath(normalizePath(path));
    let hops = 0;
    while (pending.length > 0) {
      const [name, ...rest] = pending as [string, ...string[]];
      const candidate = joinPath(resolved, name);
      let stats: Stats;
      try {
        stats = await this.lstat(candidate);
      } catch (err) {
        if (err instanceof ResourceNotFound && rest.length === 0) return candidate;
        throw err;
      }
      if (stats.type === 'symlink') {
        if (++hops > MAX_SYMLINK_HOPS) throw new InvalidPath(path, { message: 'Too many levels of symbolic links' });
        const target = await this.readlink(candidate);
        pending = [...splitPath(normalizePath(target, resolved)), ...rest];
        resolved = '/';
        continue;
      }
      resolved = candidate;
      pending = rest;
    }
    return resolved;
  }

  /** True for a filesystem that refuses every change; the server then offers nothing that writes. */
  get isReadOnly(): boolean {
    return false;
  }

  /** Releases what the FS holds (connections, clients). The default holds nothing. */
  async close(): Promise<void> {}

  // Optional capabilities: defined by a backend only when it can do them.

  /** Capacity of the filesystem holding `path`. */
  statvfs?(path: string): Promise<StatVFS>;
  /** Hash of `length` bytes from `offset` (length 0: to the end), computed by the storage. */
  hash?(path: string, algorithm: HashAlgorithm, offset: number, length: number): Promise<Buffer>;
  /** Server-side copy of a whole file; replaces `to` only when `overwrite` is set. */
  copy?(from: string, to: string, overwrite: boolean): Promise<void>;
  /** Creates a hard link `linkPath` to the existing file `target`. */
  link?(target: string, linkPath: string): Promise<void>;
  /** Names behind the uids and gids this FS reports (users-groups-by-id@openssh.com). */
  accountNames?(): Promise<AccountNames>;

  // Conveniences built on the contract, for embedders, examples and tests.

  async exists(path: string, options: { followSymlinks?: boolean } = {}): Promise<boolean> {
    try {
      await (options.followSymlinks === false ? this.lstat(path) : this.stat(path));
      return true;
    } catch (err) {
      if (err instanceof ResourceNotFound) return false;
      throw err;
    }
  }

  async readFile(path: string): Promise<Buffer> {
    const handle = await this.open(path, parseOpenFlags('r'));
    try {
      const chunks: Buffer[] = [];
      for (let offset = 0; ; ) {
        const chunk = await handle.read(offset, 1 << 20);
        if (chunk.length === 0) break;
        chunks.push(chunk);
        offset += chunk.length;
      }
      return Buffer.concat(chunks);
    } finally {
      await handle.close();
    }
  }

  async writeFile(path: string, data: Buffer | string): Promise<void> {
    const handle = await this.open(path, parseOpenFlags('w'));
    let closed = false;
    try {
      await handle.write(0, Buffer.from(data));
      closed = true;
      await handle.close();
    } finally {
      if (!closed) await handle.close().catch(() => {});
    }
  }

  /** Collects a whole listing; for tests and small directories only. */
  async listdirAll(path: string): Promise<DirEntry[]> {
    const entries: DirEntry[] = [];
    for await (const entry of this.listdir(path)) entries.push(entry);
    return entries;
  }
}
