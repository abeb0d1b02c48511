import type { FS } from '../fs/FS.js';
import { IsADirectory, PermissionDenied } from '../fs/errors.js';
import { normalizePath } from '../fs/path.js';
import { readIntoFile, readIntoViaRead } from '../fs/readInto.js';
import type { AccountNames, DirEntry, FileHandle, OpenFlags } from '../fs/types.js';
import { statsToWire, wireToSetAttributes } from './attrs.js';
import { formatLongname } from './longname.js';
import type { WireAttrs } from './protocol/codec.js';
import { OpenFlag } from './protocol/constants.js';
import type { NameEntry } from './protocol/messages.js';

const NO_ACCOUNTS: AccountNames = { users: new Map(), groups: new Map() };

/** A file opened by OPEN: the backend's handle and how it was opened. */
export interface OpenFile {
  path: string;
  flags: OpenFlags;
  file: FileHandle;
}

/** A directory opened by OPENDIR: a lazy listing read batch by batch. */
export interface OpenDirectory {
  path: string;
  entries: AsyncIterator<DirEntry>;
  /** An entry read ahead (to report OPENDIR errors early, or one that did not fit a batch). */
  lookahead?: DirEntry;
  done: boolean;
}

export interface SFTPServerInterfaceOptions {
  /** The directory relative paths start from (the user's home). Default `/`. */
  home?: string;
}

/** How many entries one READDIR reply carries at most, and its size budget. */
export interface ReaddirBudget {
  maxEntries: number;
  maxBytes: number;
}

/**
 * Bytes one entry takes in a NAME reply. Exact, not estimated: the budget
 * keeps a reply under the client's message limit (OpenSSH: 256 KiB, and a
 * longer reply ends its session), and long owner names or sizes could push
 * an estimate past it.
 */
function encodedSize(entry: NameEntry): number {
  const { attrs } = entry;
  let size = 8 + Buffer.byteLength(entry.filename) + Buffer.byteLength(entry.longname) + 4;
  if (attrs.size !== undefined) size += 8;
  if (attrs.uid !== undefined && attrs.gid !== undefined) size += 8;
  if (attrs.permissions !== undefined) size += 4;
  if (attrs.atime !== undefined && attrs.mtime !== undefined) size += 8;
  return size;
}

/** Converts SFTP pflags to the FS's open flags, as OpenSSH's sftp-server reads them. */
export function openFlagsFromPflags(pflags: number): OpenFlags {
  const create = (pflags & OpenFlag.CREAT) !== 0;
  return {
    read: (pflags & OpenFlag.READ) !== 0 || (pflags & OpenFlag.WRITE) === 0,
    write: (pflags & OpenFlag.WRITE) !== 0,
    append: (pflags & OpenFlag.APPEND) !== 0,
    create,
    truncate: (pflags & OpenFlag.TRUNC) !== 0,
    exclusive: create && (pflags & OpenFlag.EXCL) !== 0,
  };
}

/**
 * One method per SFTP request, mapping the request onto the FS. Subclass it
 * to change what a request does (paramiko style); the Session owns the wire,
 * the handle table and error translation. Paths arrive as the client sent
 * them and are resolved against the home directory here.
 */
export class SFTPServerInterface {
  readonly home: string;
  /** The names `ls -l` shows, asked for once per session (see readdir). */
  private longnameAccounts?: Promise<AccountNames>;

  constructor(readonly fs: FS, options: SFTPServerInterfaceOptions = {}) {
    this.home = normalizePath(options.home ?? '/');
  }

  /** A client path as an absolute FS path. */
  resolve(path: string): string {
    return normalizePath(path, this.home);
  }

  async open(path: string, pflags: number, attrs: WireAttrs): Promise<OpenFile> {
    const resolved = this.resolve(path);
    const flags = openFlagsFromPflags(pflags);
    const file = await this.fs.open(resolved, flags, wireToSetAttributes(attrs));
    return { path: resolved, flags, file };
  }

  async close(open: OpenFile): Promise<void> {
    await open.file.close();
  }

  /** Reads up to `length` bytes; an empty buffer means end of file. */
  async read(open: OpenFile, offset: number, length: number): Promise<Buffer> {
    if (!open.flags.read) throw new PermissionDenied(open.path, { message: 'File was not opened for reading' });
    return open.file.read(offset, length);
  }

  /**
   * READ as the session makes it: into the reply buffer it provides (`target`,
   * as long as the READ asks for); resolves to the bytes read, 0 at end of
   * file. A subclass that overrides `read` is still what clients get: this
   * then goes through that `read`.
   */
  async readInto(open: OpenFile, offset: number, target: Buffer): Promise<number> {
    if (this.read !== SFTPServerInterface.prototype.read) return readIntoViaRead({ read: (at, length) => this.read(open, at, length) }, target, offset);
    if (!open.flags.read) throw new PermissionDenied(open.path, { message: 'File was not opened for reading' });
    return readIntoFile(open.file, target, offset);
  }

  async write(open: OpenFile, offset: number, data: Buffer): Promise<void> {
    if (!open.flags.write) throw new PermissionDenied(open.path, { message: 'File was not opened for writing' });
    await open.file.write(offset, data);
  }

  async fstat(open: OpenFile): Promise<WireAttrs> {
    return statsToWire(await open.file.stat());
  }

  async fsetstat(open: OpenFile, attrs: WireAttrs): Promise<void> {
    await open.file.setstat(wireToSetAttributes(attrs));
  }

  async opendir(path: string): Promise<OpenDirectory> {
    const resolved = this.resolve(path);
    const entries = this.fs.listdir(resolved)[Symbol.asyncIterator]();
    // Pull the first entry now: a missing directory or a file must fail OPENDIR, not the first READDIR.
    const first = await entries.next();
    return { path: resolved, entries, lookahead: first.done ? undefined : first.value, done: first.done === true };
  }

  /** The next batch of entries; an empty batch means the listing is over. */
  async readdir(dir: OpenDirectory, budget: ReaddirBudget): Promise<NameEntry[]> {
    const batch: NameEntry[] = [];
    let bytes = 0;
    const now = Date.now() / 1000;
    // Names are cosmetic: a lookup that fails shows ids, as for ids it does not know, and the listing goes on.
    this.longnameAccounts ??= Promise.resolve()
      .then(() => this.accountNames())
      .catch(() => NO_ACCOUNTS);
    const accounts = await this.longnameAccounts;
    while (batch.length < budget.maxEntries) {
      let entry = dir.lookahead;
      dir.lookahead = undefined;
      if (!entry) {
        if (dir.done) break;
        const next = await dir.entries.next();
        if (next.done) {
          dir.done = true;
          break;
        }
        entry = next.value;
      }
      const named: NameEntry = { filename: entry.name, longname: formatLongname(entry.name, entry.stats, now, accounts), attrs: statsToWire(entry.stats) };
      const size = encodedSize(named);
      if (batch.length > 0 && bytes + size > budget.maxBytes) {
        dir.lookahead = entry;
        break;
      }
      bytes += size;
      batch.push(named);
    }
    return batch;
  }

  async closedir(dir: OpenDirectory): Promise<void> {
    if (!dir.done) await dir.entries.return?.();
  }

  async stat(path: string): Promise<WireAttrs> {
    return statsToWire(await this.fs.stat(this.resolve(path)));
  }

  async lstat(path: string): Promise<WireAttrs> {
    return statsToWire(await this.fs.lstat(this.resolve(path)));
  }

  async setstat(path: string, attrs: WireAttrs): Promise<void> {
    await this.fs.setstat(this.resolve(path), wireToSetAttributes(attrs));
  }

  async remove(path: string): Promise<void> {
    const resolved = this.resolve(path);
    if (resolved === '/') throw new IsADirectory(resolved);
    await this.fs.remove(resolved);
  }

  async mkdir(path: string, attrs: WireAttrs): Promise<void> {
    await this.fs.mkdir(this.resolve(path), wireToSetAttributes(attrs));
  }

  async rmdir(path: string): Promise<void> {
    await this.fs.rmdir(this.resolve(path));
  }

  async realpath(path: string): Promise<string> {
    return this.fs.realpath(this.resolve(path));
  }

  async rename(oldPath: string, newPath: string): Promise<void> {
    await this.fs.rename(this.resolve(oldPath), this.resolve(newPath));
  }

  async posixRename(oldPath: string, newPath: string): Promise<void> {
    await this.fs.posixRename(this.resolve(oldPath), this.resolve(newPath));
  }

  async readlink(path: string): Promise<string> {
    return this.fs.readlink(this.resolve(path));
  }

  /**
   * Names for the uids and gids the FS reports: the owner and group columns of
   * a listing's `ls -l` lines, and users-groups-by-id@openssh.com. The FS's own
   * (the local disk knows the host's accounts), else none. Override it for a
   * user table of your own.
   */
  accountNames(): AccountNames | Promise<AccountNames> {
    return this.fs.accountNames ? this.fs.accountNames() : NO_ACCOUNTS;
  }

  /** The target is stored as the client gave it (relative targets stay relative). */
  async symlink(targetPath: string, linkPath: string): Promise<void> {
    if (targetPath.includes('\0')) normalizePath(targetPath);
    await this.fs.symlink(targetPath, this.resolve(linkPath));
  }
}
