import type { NodeFdLike, NodeFileHandleLike, NodeFSLike, NodePathSyncLike, NodePromisesLike, NodeStatsLike } from './fsLike.js';
import { FdHandle } from './fdHandle.js';
import { syncCallsChannel, type SyncCallsEvent } from '../../observability/events.js';
import { SyncGuard } from './syncGuard.js';

const FD_FUNCTIONS: ReadonlyArray<keyof NodeFdLike> = [
  'openSync', 'open', 'closeSync', 'close', 'fstatSync', 'fstat', 'readSync', 'read', 'writeSync', 'write',
  'ftruncateSync', 'futimesSync', 'fchmodSync', 'fchownSync', 'ftruncate', 'futimes', 'fchmod', 'fchown', 'fsync',
];

/** A SyncGuard that announces its switches on `sftp-expose:sync-calls` (the CLI logs them). */
function guardPublishing(calls: SyncCallsEvent['calls']): SyncGuard {
  return new SyncGuard(undefined, undefined, (enabled, timesTurnedOff) => {
    if (syncCallsChannel.hasSubscribers) syncCallsChannel.publish({ calls, enabled, timesTurnedOff } satisfies SyncCallsEvent);
  });
}

/**
 * The fs calls of one NodeFS, each made synchronously when the fs-like has
 * the synchronous form and its {@link SyncGuard} still allows it, else through
 * `fs.promises`. Either way a promise comes back and errors are the fs-like's
 * own (callers translate them), so NodeFS reads the same on both paths.
 *
 * Data reads and writes have their own guard: a cold read of a large file
 * must not turn off synchronous metadata calls, which stay fast.
 */
export class Syscalls {
  /** Guards metadata calls (open, stat, realpath, mkdir, unlink...). */
  readonly metadata = guardPublishing('metadata');
  /** Guards small synchronous reads and writes on descriptors. */
  readonly data = guardPublishing('data');
  private readonly sync: Partial<NodePathSyncLike>;
  /** The descriptor API, when the fs-like has all of it; files are then opened as descriptors. */
  private readonly fd?: NodeFdLike;

  constructor(
    fsLike: NodeFSLike,
    private readonly fsp: NodePromisesLike = fsLike.promises,
  ) {
    this.sync = fsLike;
    if (FD_FUNCTIONS.every((name) => typeof fsLike[name] === 'function')) this.fd = fsLike as NodeFdLike;
  }

  /**
   * Runs `sync` when it exists and the guard allows, else `async` (timed, while
   * the guard is off, so that it can turn synchronous calls back on); a rejected
   * promise either way on failure.
   */
  run<T>(guard: SyncGuard, sync: (() => T) | undefined, async: () => Promise<T>): Promise<T> {
    if (sync === undefined) return async();
    if (!guard.enabled) return guard.timeAsync(async);
    try {
      return Promise.resolve(guard.time(sync));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `sync(...args)` bound to the fs-like when the fs-like has that function, for {@link run}. */
  private syncCall<K extends keyof NodePathSyncLike>(name: K, ...args: Parameters<NodePathSyncLike[K]>): (() => ReturnType<NodePathSyncLike[K]>) | undefined {
    const fn = this.sync[name] as ((...a: unknown[]) => ReturnType<NodePathSyncLike[K]>) | undefined;
    if (typeof fn !== 'function') return undefined;
    return () => fn.apply(this.sync, args);
  }

  /** Opens a file: a descriptor-backed handle when possible (see NodeFdLike), else an `fs.promises` FileHandle. */
  open(path: string, flags: number, mode: number): Promise<NodeFileHandleLike> {
    const fd = this.fd;
    if (!fd) return this.fsp.open(path, flags, mode);
    const opened = this.run(this.metadata, () => fd.openSync(path, flags, mode), () => callback<number>((cb) => fd.open(path, flags, mode, cb)));
    return opened.then((descriptor) => new FdHandle(fd, descriptor, this));
  }

  stat(path: string): Promise<NodeStatsLike> {
    return this.run(this.metadata, this.syncCall('statSync', path), () => this.fsp.stat(path));
  }

  lstat(path: string): Promise<NodeStatsLike> {
    return this.run(this.metadata, this.syncCall('lstatSync', path), () => this.fsp.lstat(path));
  }

  /**
   * lstat, or undefined when nothing is at `path` (ENOENT). Synchronously, no
   * error object is made for that answer (`throwIfNoEntry: false`): making
   * one costs some 10 µs, more than the syscall, and a new upload's path
   * gives that answer once per file.
   */
  lstatOrMissing(path: string): Promise<NodeStatsLike | undefined> {
    const lstatSync = this.sync.lstatSync as ((path: string, options: { throwIfNoEntry: false }) => NodeStatsLike | undefined) | undefined;
    const missing = (err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    };
    const sync = typeof lstatSync === 'function' ? () => lstatSync.call(this.sync, path, { throwIfNoEntry: false }) : undefined;
    return this.run(this.metadata, sync, () => this.fsp.lstat(path)).catch(missing);
  }

  /**
   * Synchronous lstat for a listing's batch, when allowed (undefined: use the
   * async form). Not timed per call: the caller times the whole batch through
   * `metadata.timeBatch`, so that a batch of slow calls (a cold directory, each
   * lstat under the per-call limit) still counts as slow.
   */
  lstatSyncForBatch(): ((path: string) => NodeStatsLike) | undefined {
    const lstatSync = this.sync.lstatSync;
    if (typeof lstatSync !== 'function' || !this.metadata.enabled) return undefined;
    return (path) => lstatSync.call(this.sync, path);
  }

  realpath(path: string): Promise<string> {
    const realpathSync = this.sync.realpathSync;
    // The native form is realpath(3), as the async one; the JS form lstats each component.
    const sync = typeof realpathSync === 'function' ? () => String((realpathSync.native ?? realpathSync).call(this.sync, path)) : undefined;
    return this.run(this.metadata, sync, () => this.fsp.realpath!(path).then(String));
  }

  readlink(path: string): Promise<string> {
    const sync = this.syncCall('readlinkSync', path);
    return this.run(this.metadata, sync && (() => String(sync())), () => this.fsp.readlink!(path).then(String));
  }

  mkdir(path: string, mode: number): Promise<unknown> {
    return this.run(this.metadata, this.syncCall('mkdirSync', path, mode), () => this.fsp.mkdir(path, mode));
  }

  rmdir(path: string): Promise<void> {
    return this.run(this.metadata, this.syncCall('rmdirSync', path), () => this.fsp.rmdir(path));
  }

  unlink(path: string): Promise<void> {
    return this.run(this.metadata, this.syncCall('unlinkSync', path), () => this.fsp.unlink(path));
  }

  rename(from: string, to: string): Promise<void> {
    return this.run(this.metadata, this.syncCall('renameSync', from, to), () => this.fsp.rename(from, to));
  }

  symlink(target: string, path: string): Promise<void> {
    return this.run(this.metadata, this.syncCall('symlinkSync', target, path), () => this.fsp.symlink!(target, path));
  }

  link(existingPath: string, newPath: string): Promise<void> {
    return this.run(this.metadata, this.syncCall('linkSync', existingPath, newPath), () => this.fsp.link!(existingPath, newPath));
  }

  chmod(path: string, mode: number): Promise<void> {
    return this.run(this.metadata, this.syncCall('chmodSync', path, mode), () => this.fsp.chmod(path, mode));
  }

  chown(path: string, uid: number, gid: number): Promise<void> {
    return this.run(this.metadata, this.syncCall('chownSync', path, uid, gid), () => this.fsp.chown(path, uid, gid));
  }

  utimes(path: string, atime: number, mtime: number): Promise<void> {
    return this.run(this.metadata, this.syncCall('utimesSync', path, atime, mtime), () => this.fsp.utimes(path, atime, mtime));
  }

  truncate(path: string, length: number): Promise<void> {
    return this.run(this.metadata, this.syncCall('truncateSync', path, length), () => this.fsp.truncate(path, length));
  }
}

/** Adapts one Node callback-style call to a promise. */
export function callback<T = void>(start: (cb: (error?: NodeJS.ErrnoException | null, result?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((error, result) => (error ? reject(error) : resolve(result as T))));
}
