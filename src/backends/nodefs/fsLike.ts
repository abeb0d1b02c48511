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

/** Any object with Node's `fs.promises` API: node:fs, fs-extra, memfs, unionfs... */
export interface NodeFSLike {
  promises: NodePromisesLike;
  /** When present, listings stat their entries with it (see NodeFS's listing notes). */
  lstatSync?(path: string): NodeStatsLike;
  /** Open-flag values of that fs; node:fs's are used when absent. */
  constants?: Partial<Record<'O_RDONLY' | 'O_WRONLY' | 'O_RDWR' | 'O_CREAT' | 'O_EXCL' | 'O_TRUNC' | 'O_APPEND' | 'COPYFILE_EXCL', number>>;
}
