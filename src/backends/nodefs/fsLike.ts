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
export type NodeDirName = string | Buffer | { name: string | Buffer };

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

/** Loose on purpose: memfs types its callbacks' arguments as optional. */
type Callback<T = void> = (error?: NodeJS.ErrnoException | null, result?: T) => void;

/**
 * The synchronous path functions of Node's `fs` (node:fs, fs-extra and memfs
 * have them). Each one NodeFS finds is used for metadata calls, guarded (see
 * SyncGuard); a missing one means the `fs.promises` form.
 */
export interface NodePathSyncLike {
  statSync(path: string): NodeStatsLike;
  lstatSync(path: string): NodeStatsLike;
  realpathSync: ((path: string) => string | Buffer) & { native?: (path: string) => string | Buffer };
  readlinkSync(path: string): string | Buffer;
  mkdirSync(path: string, mode?: number): unknown;
  rmdirSync(path: string): void;
  unlinkSync(path: string): void;
  renameSync(from: string, to: string): void;
  symlinkSync(target: string, path: string): void;
  linkSync(existingPath: string, newPath: string): void;
  chmodSync(path: string, mode: number): void;
  chownSync(path: string, uid: number, gid: number): void;
  utimesSync(path: string, atime: number, mtime: number): void;
  truncateSync(path: string, length?: number): void;
}

/**
 * Node's file-descriptor API, synchronous and callback forms. When the fs-like
 * has all of it, files are opened as plain descriptors: open, fstat and close
 * can then be synchronous, which `fs.promises.FileHandle` cannot.
 */
export interface NodeFdLike {
  openSync(path: string, flags: number, mode?: number): number;
  open(path: string, flags: number, mode: number, callback: Callback<number>): void;
  closeSync(fd: number): void;
  close(fd: number, callback: Callback): void;
  fstatSync(fd: number): NodeStatsLike;
  fstat(fd: number, callback: Callback<NodeStatsLike>): void;
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number | null): number;
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number | null, callback: Callback<number>): void;
  writeSync(fd: number, buffer: Buffer, offset: number, length: number, position: number | null): number;
  write(fd: number, buffer: Buffer, offset: number, length: number, position: number | null, callback: Callback<number>): void;
  ftruncateSync(fd: number, length?: number): void;
  futimesSync(fd: number, atime: number, mtime: number): void;
  fchmodSync(fd: number, mode: number): void;
  fchownSync(fd: number, uid: number, gid: number): void;
  ftruncate(fd: number, length: number, callback: Callback): void;
  futimes(fd: number, atime: number, mtime: number, callback: Callback): void;
  fchmod(fd: number, mode: number, callback: Callback): void;
  fchown(fd: number, uid: number, gid: number, callback: Callback): void;
  fsync(fd: number, callback: Callback): void;
}

/** Any object with Node's `fs.promises` API: node:fs, fs-extra, memfs, unionfs... */
export interface NodeFSLike extends Partial<NodePathSyncLike>, Partial<NodeFdLike> {
  promises: NodePromisesLike;
  /** Open-flag values of that fs; node:fs's are used when absent. */
  constants?: Partial<Record<'O_RDONLY' | 'O_WRONLY' | 'O_RDWR' | 'O_CREAT' | 'O_EXCL' | 'O_TRUNC' | 'O_APPEND' | 'COPYFILE_EXCL', number>>;
}
