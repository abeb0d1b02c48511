/** What kind of object a path names. */
export type FileType = 'file' | 'directory' | 'symlink' | 'other';

/**
 * Attributes of a file as a backend reports them. Times are seconds since the
 * Unix epoch (fractions allowed); `permissions` holds only the 0o7777 bits, the
 * object's kind is in `type`.
 */
export interface Stats {
  type: FileType;
  size: number;
  permissions: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
  nlink?: number;
  /** Owner and group names, where the backend knows them (shown in `ls -l`). */
  owner?: string;
  group?: string;
}

/** Attributes a client asks to change; absent fields are left alone. */
export interface SetAttributes {
  size?: number;
  permissions?: number;
  uid?: number;
  gid?: number;
  atime?: number;
  mtime?: number;
}

/** How a file is opened; mirrors SFTP's pflags without depending on them. */
export interface OpenFlags {
  read: boolean;
  write: boolean;
  /** Every write goes to the end of the file, whatever offset it names. */
  append: boolean;
  create: boolean;
  truncate: boolean;
  /** With `create`: fail with AlreadyExists when the file exists. */
  exclusive: boolean;
}

/** One entry of a directory listing, with its attributes (as `lstat` gives them). */
export interface DirEntry {
  name: string;
  stats: Stats;
}

/** Filesystem capacity, as statvfs(2) reports it. */
export interface StatVFS {
  blockSize: number;
  fragmentSize: number;
  blocks: number;
  blocksFree: number;
  blocksAvailable: number;
  files: number;
  filesFree: number;
  filesAvailable: number;
  fsid: number;
  readOnly: boolean;
  nameMax: number;
}

/** Names of user and group ids, as an account database knows them. */
export interface AccountNames {
  users: ReadonlyMap<number, string>;
  groups: ReadonlyMap<number, string>;
}

/** Hash algorithms a backend may compute server-side. */
export type HashAlgorithm = 'md5' | 'sha1' | 'sha256' | 'sha512';

/** An open file. Offsets are absolute; `read` returns an empty buffer at end of file. */
export interface FileHandle {
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * Optional: reads up to `target.length` bytes at `offset` into `target` and
   * resolves to how many (0 at end of file), with the same checks and the
   * same short-read rules as `read`. It lets the server read straight into
   * its reply buffer instead of allocating a buffer per READ and copying it
   * into the reply. The handle must not keep `target` once the promise settles.
   */
  readInto?(target: Buffer, offset: number): Promise<number>;
  write(offset: number, data: Buffer): Promise<void>;
  stat(): Promise<Stats>;
  setstat(attrs: SetAttributes): Promise<void>;
  /** Flushes what was written and releases the file; a failed flush rejects here. */
  close(): Promise<void>;
  /** Present when the backend can make written data durable on request. */
  fsync?(): Promise<void>;
  /**
   * Present when a write can be abandoned (a session dropped mid-upload): the
   * backend discards what was written instead of publishing it, as an object
   * store must. Backends without it are closed normally, as OpenSSH leaves a
   * partial file behind for `put -a` to resume.
   */
  abort?(): Promise<void>;
}

export function parseOpenFlags(spec: string): OpenFlags {
  // Node-style flag strings ('r', 'w', 'a+', 'wx' ...) for convenience in tests and examples.
  const flags: OpenFlags = { read: false, write: false, append: false, create: false, truncate: false, exclusive: false };
  const base = spec.replace(/[x+]/g, '');
  if (base === 'r') flags.read = true;
  else if (base === 'w') Object.assign(flags, { write: true, create: true, truncate: true });
  else if (base === 'a') Object.assign(flags, { write: true, create: true, append: true });
  else throw new TypeError(`unknown open flags: ${spec}`);
  if (spec.includes('+')) Object.assign(flags, { read: true, write: true });
  if (spec.includes('x')) flags.exclusive = true;
  return flags;
}
