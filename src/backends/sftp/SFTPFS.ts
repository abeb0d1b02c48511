import type { FileEntry } from 'ssh2';
import { FS } from '../../fs/FS.js';
import { PermissionDenied, StorageError } from '../../fs/errors.js';
import { isInside, normalizePath } from '../../fs/path.js';
import type { DirEntry, FileHandle, OpenFlags, SetAttributes, StatVFS, Stats } from '../../fs/types.js';
import { silentLogger, type Logger } from '../../logger.js';
import { needsCurrentStats, setAttributesToWire, statsFromWire, type WireStats } from './attrs.js';
import { UpstreamConnection, type Callback, type UpstreamOptions } from './connection.js';
import { errorFromStatus, refineError, SFTPStatus, statusOf, type FailedOperation, type UpstreamProbe } from './errors.js';
import { SFTPFileHandle } from './handle.js';

export type { UpstreamOptions } from './connection.js';
export { UpstreamConnectionLost } from './errors.js';
export { parseKnownHosts, verifyHostKey, type HostKeyVerdict, type KnownHostsEntry } from './knownHosts.js';

/** Options for {@link SFTPFS}: the upstream server, and which of its directories to expose. */
export interface SFTPFSOptions extends UpstreamOptions {
  /**
   * Directory of the upstream that appears as `/` (default: the upstream's `/`).
   * A relative path starts at the login directory. A prefix, not a jail: the
   * upstream follows symlinks wherever they lead.
   */
  root?: string;
  logger?: Logger;
}

/** SFTP open flags (draft-ietf-secsh-filexfer-02, 6.3). */
const PFlag = { READ: 0x01, WRITE: 0x02, APPEND: 0x04, CREAT: 0x08, TRUNC: 0x10, EXCL: 0x20 } as const;

/**
 * Another SFTP server as a filesystem (a proxy, as pysftpproxy and SFTPGo's
 * sftpfs): every operation is forwarded over one upstream SSH connection.
 * Create one per session with {@link SFTPFS.connect} (it connects first, so
 * the capabilities the upstream offers — statvfs, hard links, fsync,
 * copy-data, lsetstat — are known before a client asks) and `close()` it
 * when the session ends.
 *
 * When the upstream drops, open handles fail with {@link UpstreamConnectionLost}
 * and the next path operation reconnects.
 */
export class SFTPFS extends FS {
  /** Upstream path of the FS's `/`, without a trailing slash (empty for `/`). */
  private readonly rootPrefix: string;
  private readonly logger: Logger;
  private connection: UpstreamConnection;
  private reconnecting?: Promise<UpstreamConnection>;
  private closed = false;
  private readonly probe: UpstreamProbe;

  /** Present when the upstream offers lsetstat@openssh.com (attributes of a symlink itself). */
  readonly lsetstat?: (path: string, attrs: SetAttributes) => Promise<void>;

  /** Connects to the upstream and resolves the root there; rejects with a StorageError saying why it could not. */
  static async connect(options: SFTPFSOptions): Promise<SFTPFS> {
    const logger = options.logger ?? silentLogger;
    const connection = await UpstreamConnection.open(options, logger);
    try {
      const root = await connection.call<string>((cb) => connection.sftp.realpath(options.root ?? '/', cb));
      const stats = await connection.call<WireStats>((cb) => connection.sftp.stat(root, cb));
      if (statsFromWire(stats).type !== 'directory') throw new Error('not a directory');
      return new SFTPFS(options, connection, root);
    } catch (error) {
      connection.close();
      throw new StorageError(options.root, { message: `Upstream root directory unusable (${(error as Error).message})`, cause: error });
    }
  }

  private constructor(private readonly options: SFTPFSOptions, connection: UpstreamConnection, root: string) {
    super();
    this.connection = connection;
    this.logger = options.logger ?? silentLogger;
    const normalRoot = normalizePath(root);
    this.rootPrefix = normalRoot === '/' ? '' : normalRoot;
    const quietly = <T>(promise: Promise<T>) => promise.catch(() => undefined);
    this.probe = {
      stat: (path) => quietly(this.raw<WireStats>((c, cb) => c.sftp.stat(this.up(path), cb)).then(statsFromWire)),
      lstat: (path) => quietly(this.raw<WireStats>((c, cb) => c.sftp.lstat(this.up(path), cb)).then(statsFromWire)),
      readlink: (path) => quietly(this.raw<string>((c, cb) => c.sftp.readlink(this.up(path), cb)).then((target) => this.down(target))),
    };
    // Capabilities exist only when the upstream has the extension behind them.
    if (connection.hasExtension('statvfs@openssh.com', '2')) this.statvfs = (path) => this.statvfsOf(path);
    if (connection.hasExtension('hardlink@openssh.com')) {
      this.link = (target, linkPath) => this.run(linkPath, { kind: 'create' }, (c, cb) => c.sftp.ext_openssh_hardlink(this.up(target), this.up(linkPath), cb));
    }
    if (connection.hasExtension('copy-data')) this.copy = (from, to, overwrite) => this.copyData(from, to, overwrite);
    if (connection.hasExtension('lsetstat@openssh.com')) {
      this.lsetstat = (path, attrs) => this.run(path, { kind: 'lookup', follow: false }, (c, cb) => c.sftp.ext_openssh_lsetstat(this.up(path), setAttributesToWire(attrs), cb));
    }
  }

  // Paths: the FS's `/` is the upstream's root directory.

  private up(path: string): string {
    const normal = normalizePath(path);
    return normal === '/' ? this.rootPrefix || '/' : this.rootPrefix + normal;
  }

  /** An upstream absolute path in FS terms when it lies under the root; anything else unchanged. */
  private down(upstreamPath: string): string {
    if (this.rootPrefix === '' || !upstreamPath.startsWith('/')) return upstreamPath;
    if (!isInside(this.rootPrefix, upstreamPath)) return upstreamPath;
    return upstreamPath.slice(this.rootPrefix.length) || '/';
  }

  // The connection.

  /** The live connection, reconnecting (once, shared by concurrent callers) after a drop. */
  private async upstream(): Promise<UpstreamConnection> {
    if (this.closed) throw new StorageError(undefined, { message: 'SFTPFS is closed' });
    if (!this.connection.lost) return this.connection;
    this.reconnecting ??= UpstreamConnection.open(this.options, this.logger).then(
      (connection) => {
        this.reconnecting = undefined;
        if (this.closed) connection.close();
        this.logger.info('upstream SFTP reconnected', { host: this.options.host });
        return (this.connection = connection);
      },
      (error: unknown) => {
        this.reconnecting = undefined;
        throw error;
      },
    );
    return this.reconnecting;
  }

  /** One request, no translation (the probes). */
  private async raw<T>(request: (connection: UpstreamConnection, callback: Callback<T>) => void): Promise<T> {
    const connection = await this.upstream();
    return connection.call<T>((cb) => request(connection, cb));
  }

  /** One request, its failure translated for `path` in the light of what it was doing. */
  private async run<T = void>(path: string, operation: FailedOperation, request: (connection: UpstreamConnection, callback: Callback<T>) => void): Promise<T> {
    try {
      return await this.raw(request);
    } catch (error) {
      throw await refineError(error, path, operation, this.probe);
    }
  }

  // The FS contract.

  async open(path: string, flags: OpenFlags, attrs: SetAttributes = {}): Promise<FileHandle> {
    let pflags = (flags.read ? PFlag.READ : 0) | (flags.write ? PFlag.WRITE : 0);
    if (flags.append) pflags |= PFlag.APPEND;
    if (flags.create) pflags |= PFlag.CREAT | (flags.exclusive ? PFlag.EXCL : 0);
    if (flags.truncate) pflags |= PFlag.TRUNC;
    const wire = attrs.permissions !== undefined ? { mode: attrs.permissions & 0o7777 } : {};
    const connection = await this.upstream();
    const operation: FailedOperation = { kind: 'open', create: flags.create, exclusive: flags.exclusive };
    const handle = await this.run<Buffer>(path, operation, (c, cb) => c.sftp.open(this.up(path), pflags, wire, cb));
    return new SFTPFileHandle(connection, handle, path, flags);
  }

  async *listdir(path: string): AsyncIterable<DirEntry> {
    const connection = await this.upstream();
    const handle = await this.run<Buffer>(path, { kind: 'list' }, (c, cb) => c.sftp.opendir(this.up(path), cb));
    const readBatch = () =>
      connection.call<FileEntry[]>((cb) => connection.sftp.readdir(handle, cb)).then(
        (entries) => entries,
        (error: unknown) => {
          if (statusOf(error) === SFTPStatus.EOF) return undefined;
          throw errorFromStatus(error, path);
        },
      );
    try {
      // The next batch is asked for while this one is consumed: one round trip hidden per batch.
      let next = readBatch();
      for (;;) {
        const batch = await next;
        if (batch === undefined) return;
        next = readBatch();
        next.catch(() => {});
        for (const entry of batch) yield { name: entry.filename, stats: statsFromWire(entry.attrs) };
      }
    } finally {
      await connection.call((cb) => connection.sftp.close(handle, cb)).catch(() => {});
    }
  }

  async stat(path: string): Promise<Stats> {
    return statsFromWire(await this.run<WireStats>(path, { kind: 'lookup', follow: true }, (c, cb) => c.sftp.stat(this.up(path), cb)));
  }

  override async lstat(path: string): Promise<Stats> {
    return statsFromWire(await this.run<WireStats>(path, { kind: 'lookup', follow: false }, (c, cb) => c.sftp.lstat(this.up(path), cb)));
  }

  async setstat(path: string, attrs: SetAttributes): Promise<void> {
    const current = needsCurrentStats(attrs) ? await this.stat(path) : undefined;
    const operation: FailedOperation = attrs.size !== undefined ? { kind: 'set-size' } : { kind: 'lookup', follow: true };
    await this.run(path, operation, (c, cb) => c.sftp.setstat(this.up(path), setAttributesToWire(attrs, current), cb));
  }

  async mkdir(path: string, attrs: SetAttributes = {}): Promise<void> {
    const wire = attrs.permissions !== undefined ? { mode: attrs.permissions & 0o7777 } : {};
    await this.run(path, { kind: 'create' }, (c, cb) => c.sftp.mkdir(this.up(path), wire, cb));
  }

  async rmdir(path: string): Promise<void> {
    await this.run(path, { kind: 'rmdir' }, (c, cb) => c.sftp.rmdir(this.up(path), cb));
  }

  async remove(path: string): Promise<void> {
    await this.run(path, { kind: 'remove' }, (c, cb) => c.sftp.unlink(this.up(path), cb));
  }

  /** SFTP v3 RENAME: the upstream refuses an existing target. */
  override async rename(from: string, to: string): Promise<void> {
    await this.run(from, { kind: 'rename', to, replace: false }, (c, cb) => c.sftp.rename(this.up(from), this.up(to), cb));
  }

  /**
   * posix-rename@openssh.com when the upstream has it. Without it, the target
   * is removed first and the rename follows: not atomic, a window in which
   * neither name exists, but what a v3-only server allows.
   */
  async posixRename(from: string, to: string): Promise<void> {
    const operation: FailedOperation = { kind: 'rename', to, replace: true };
    if ((await this.upstream()).hasExtension('posix-rename@openssh.com')) {
      await this.run(from, operation, (c, cb) => c.sftp.ext_openssh_rename(this.up(from), this.up(to), cb));
      return;
    }
    const target = await this.probe.lstat(to);
    if (target !== undefined && !(await this.sameFile(from, to))) {
      if (target.type === 'directory') await this.rmdir(to);
      else await this.remove(to);
    }
    await this.rename(from, to);
  }

  private async sameFile(from: string, to: string): Promise<boolean> {
    const [a, b] = await Promise.all([this.probe.lstat(from), this.probe.lstat(to)]);
    return a !== undefined && b !== undefined && (await this.realpath(from)) === (await this.realpath(to));
  }

  override async symlink(target: string, linkPath: string): Promise<void> {
    const upstreamTarget = target.startsWith('/') ? this.up(target) : target;
    // ssh2 sends the target first to servers it takes for OpenSSH, the link first to others. Most servers read the
    // target first whoever the client (pkg/sftp's: rclone, SFTPGo), so for them the arguments are swapped; ssh2's own
    // server and sftp-expose read an ssh2 client's link first, as ssh2 sends it.
    await this.run(linkPath, { kind: 'create' }, (c, cb) =>
      !c.isOpenSSH && !c.readsSsh2SymlinkLinkFirst ? c.sftp.symlink(this.up(linkPath), upstreamTarget, cb) : c.sftp.symlink(upstreamTarget, this.up(linkPath), cb),
    );
  }

  override async readlink(path: string): Promise<string> {
    return this.down(await this.run<string>(path, { kind: 'readlink' }, (c, cb) => c.sftp.readlink(this.up(path), cb)));
  }

  /**
   * The upstream's REALPATH (one round trip). When it fails (a missing last
   * component, which the contract allows), the base class's walk decides.
   */
  override async realpath(path: string): Promise<string> {
    let resolved: string;
    try {
      resolved = normalizePath(await this.raw<string>((c, cb) => c.sftp.realpath(this.up(path), cb)));
    } catch (error) {
      if (statusOf(error) === undefined) throw errorFromStatus(error, path);
      return super.realpath(path);
    }
    if (this.rootPrefix !== '' && !isInside(this.rootPrefix, resolved)) {
      throw new PermissionDenied(path, { message: 'Path resolves outside the exposed root' });
    }
    return this.down(resolved);
  }

  override async close(): Promise<void> {
    this.closed = true;
    this.connection.close();
  }

  // Capabilities, installed in the constructor when the upstream offers them.

  private async statvfsOf(path: string): Promise<StatVFS> {
    const info = await this.run<Record<string, number>>(path, { kind: 'lookup', follow: true }, (c, cb) => c.sftp.ext_openssh_statvfs(this.up(path), cb));
    return {
      blockSize: info.f_bsize ?? 0,
      fragmentSize: info.f_frsize ?? 0,
      blocks: info.f_blocks ?? 0,
      blocksFree: info.f_bfree ?? 0,
      blocksAvailable: info.f_bavail ?? 0,
      files: info.f_files ?? 0,
      filesFree: info.f_ffree ?? 0,
      filesAvailable: info.f_favail ?? 0,
      fsid: info.f_sid ?? 0,
      readOnly: ((info.f_flag ?? 0) & 1) !== 0,
      nameMax: info.f_namemax ?? 0,
    };
  }

  /** copy-data: the upstream copies, no bytes travel through the proxy. */
  private async copyData(from: string, to: string, overwrite: boolean): Promise<void> {
    // Opening the target truncates it: a copy onto itself would destroy the source.
    if (overwrite && (await this.sameFile(from, to))) return;
    const source = await this.open(from, { read: true, write: false, append: false, create: false, truncate: false, exclusive: false });
    try {
      const { permissions } = await source.stat();
      const flags = { read: false, write: true, append: false, create: true, truncate: true, exclusive: !overwrite };
      const target = (await this.open(to, flags, { permissions })) as SFTPFileHandle;
      try {
        await target.copyFrom(source as SFTPFileHandle);
      } finally {
        await target.close();
      }
    } finally {
      await source.close();
    }
  }
}
