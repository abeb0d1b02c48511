/**
 * A custom backend: a whole filesystem kept in one JavaScript Map from path to
 * entry, the shape most key-value stores have. It passes the conformance suite
 * (see test/examples/custom-backend.test.ts) and is served over SFTP below.
 *
 * Run it: `npx tsx examples/custom-backend.ts`, then `sftp -P 2022 demo@localhost`
 * (password `demo`). PORT and HOST in the environment change where it listens.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  AlreadyExists, AuthResult, BaseSFTPServer, DirectoryNotEmpty, FS, InvalidArgument, IsADirectory, NotADirectory,
  PermissionDenied, ResourceNotFound, createStderrLogger, dirname, safeEqual,
  type DirEntry, type FileHandle, type HashAlgorithm, type OpenFlags, type SetAttributes, type Stats,
} from '../src/index.js';

/** What the Map holds for each path. A file's bytes live in `data`; a directory has none. */
interface Entry {
  type: 'file' | 'directory';
  data: Buffer;
  permissions: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
}

const now = () => Date.now() / 1000;

/**
 * Every path of the filesystem is a key of `entries`. Paths arrive absolute
 * and normalised (the server does that), so `/a/b` is always spelled the same.
 */
export class MapFS extends FS {
  private readonly entries = new Map<string, Entry>([['/', this.newEntry('directory', 0o755)]]);

  private newEntry(type: Entry['type'], permissions: number): Entry {
    const time = now();
    return { type, data: Buffer.alloc(0), permissions, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, atime: time, mtime: time };
  }

  /** The errors POSIX gives for a path whose parent is missing (ENOENT) or is a file (ENOTDIR). */
  private checkParents(path: string): void {
    let prefix = '';
    for (const name of path.split('/').slice(1, -1)) {
      prefix += '/' + name;
      const entry = this.entries.get(prefix);
      if (!entry) throw new ResourceNotFound(path);
      if (entry.type !== 'directory') throw new NotADirectory(path);
    }
  }

  private find(path: string): Entry | undefined {
    this.checkParents(path);
    return this.entries.get(path);
  }

  private get(path: string): Entry {
    const entry = this.find(path);
    if (!entry) throw new ResourceNotFound(path);
    return entry;
  }

  private statsOf(entry: Entry): Stats {
    const { type, permissions, uid, gid, atime, mtime } = entry;
    return { type, size: entry.data.length, permissions, uid, gid, atime, mtime, nlink: 1 };
  }

  private hasChildren(path: string): boolean {
    const prefix = path === '/' ? '/' : path + '/';
    for (const key of this.entries.keys()) if (key !== path && key.startsWith(prefix)) return true;
    return false;
  }

  async open(path: string, flags: OpenFlags, attrs: SetAttributes = {}): Promise<FileHandle> {
    let entry = this.find(path);
    if (entry?.type === 'directory') throw new IsADirectory(path);
    if (entry && flags.create && flags.exclusive) throw new AlreadyExists(path);
    if (!entry) {
      if (!flags.create) throw new ResourceNotFound(path);
      entry = this.newEntry('file', attrs.permissions ?? 0o644);
      this.entries.set(path, entry);
    }
    if (flags.truncate && flags.write) entry.data = Buffer.alloc(0);
    return new MapFileHandle(entry, path, flags);
  }

  async *listdir(path: string): AsyncIterable<DirEntry> {
    if (this.get(path).type !== 'directory') throw new NotADirectory(path);
    const prefix = path === '/' ? '/' : path + '/';
    // A generator yields one entry at a time: a consumer that stops early costs nothing more.
    for (const [key, entry] of this.entries) {
      if (key !== '/' && dirname(key) === path) yield { name: key.slice(prefix.length), stats: this.statsOf(entry) };
    }
  }

  async stat(path: string): Promise<Stats> {
    return this.statsOf(this.get(path));
  }

  async setstat(path: string, attrs: SetAttributes): Promise<void> {
    applyAttributes(this.get(path), path, attrs);
  }

  async mkdir(path: string, attrs: SetAttributes = {}): Promise<void> {
    if (this.find(path)) throw new AlreadyExists(path);
    this.entries.set(path, this.newEntry('directory', attrs.permissions ?? 0o755));
  }

  async rmdir(path: string): Promise<void> {
    if (this.get(path).type !== 'directory') throw new NotADirectory(path);
    if (this.hasChildren(path)) throw new DirectoryNotEmpty(path);
    if (path === '/') throw new PermissionDenied(path, { message: 'The root cannot be removed' });
    this.entries.delete(path);
  }

  async remove(path: string): Promise<void> {
    if (this.get(path).type === 'directory') throw new IsADirectory(path);
    this.entries.delete(path);
  }

  /** rename(2): replaces a file, or an empty directory with a directory; moves a directory's whole subtree. */
  async posixRename(from: string, to: string): Promise<void> {
    const source = this.get(from);
    const target = this.find(to);
    if (from === to) return;
    if (to.startsWith(from + '/')) throw new InvalidArgument(to, { message: 'Cannot move a directory inside itself' });
    if (target) {
      if (source.type === 'file' && target.type === 'directory') throw new IsADirectory(to);
      if (source.type === 'directory' && target.type === 'file') throw new NotADirectory(to);
      if (target.type === 'directory' && this.hasChildren(to)) throw new DirectoryNotEmpty(to);
    }
    const moved = [...this.entries].filter(([key]) => key === from || key.startsWith(from + '/'));
    for (const [key] of moved) this.entries.delete(key);
    for (const [key, entry] of moved) this.entries.set(to + key.slice(from.length), entry);
  }

  /** An optional capability: defining `hash` lets clients checksum files without downloading them. */
  override async hash(path: string, algorithm: HashAlgorithm, offset: number, length: number): Promise<Buffer> {
    const entry = this.get(path);
    if (entry.type === 'directory') throw new IsADirectory(path);
    const end = length === 0 ? undefined : offset + length;
    return createHash(algorithm).update(entry.data.subarray(offset, end)).digest();
  }
}

function applyAttributes(entry: Entry, path: string, attrs: SetAttributes): void {
  if (attrs.size !== undefined) {
    if (entry.type === 'directory') throw new IsADirectory(path);
    entry.data = resized(entry.data, attrs.size);
    entry.mtime = now();
  }
  if (attrs.permissions !== undefined) entry.permissions = attrs.permissions & 0o7777;
  if (attrs.uid !== undefined) entry.uid = attrs.uid;
  if (attrs.gid !== undefined) entry.gid = attrs.gid;
  if (attrs.atime !== undefined) entry.atime = attrs.atime;
  if (attrs.mtime !== undefined) entry.mtime = attrs.mtime;
}

/** `data` cut or zero-extended to `size` bytes. */
function resized(data: Buffer, size: number): Buffer {
  if (size <= data.length) return Buffer.from(data.subarray(0, size));
  return Buffer.concat([data, Buffer.alloc(size - data.length)]);
}

/** An open file: it holds the entry itself, so a file removed while open stays readable, as on POSIX. */
class MapFileHandle implements FileHandle {
  constructor(private readonly entry: Entry, private readonly path: string, private readonly flags: OpenFlags) {}

  async read(offset: number, length: number): Promise<Buffer> {
    if (!this.flags.read) throw new PermissionDenied(this.path, { message: 'File not open for reading' });
    this.entry.atime = now();
    return Buffer.from(this.entry.data.subarray(offset, offset + length));
  }

  async write(offset: number, data: Buffer): Promise<void> {
    if (!this.flags.write) throw new PermissionDenied(this.path, { message: 'File not open for writing' });
    const at = this.flags.append ? this.entry.data.length : offset;
    if (at + data.length > this.entry.data.length) this.entry.data = resized(this.entry.data, at + data.length);
    data.copy(this.entry.data, at);
    this.entry.mtime = now();
  }

  async stat(): Promise<Stats> {
    const { type, permissions, uid, gid, atime, mtime } = this.entry;
    return { type, size: this.entry.data.length, permissions, uid, gid, atime, mtime, nlink: 1 };
  }

  async setstat(attrs: SetAttributes): Promise<void> {
    applyAttributes(this.entry, this.path, attrs);
  }

  async close(): Promise<void> {}
}

/** The smallest useful server: one user, `demo`/`demo`, seeing the MapFS. */
class DemoServer extends BaseSFTPServer {
  override getAllowedAuths(): ['password'] {
    return ['password'];
  }

  override checkAuthPassword(username: string, password: string): AuthResult {
    return username === 'demo' && safeEqual(password, 'demo') ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
  }
}

async function main(): Promise<void> {
  const fs = new MapFS();
  await fs.writeFile('/welcome.txt', 'Served from a JavaScript Map.\n');
  const logger = createStderrLogger('info');
  const server = new DemoServer({ fs, logger });
  const { address, port } = await server.listen(Number(process.env.PORT ?? 2022), process.env.HOST ?? 'localhost');
  logger.info(`listening on ${address}:${port}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
