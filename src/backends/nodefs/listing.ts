import { fromErrno } from '../../fs/errors.js';
import type { DirEntry, Stats } from '../../fs/types.js';
import type { NodeDirName, NodePromisesLike } from './fsLike.js';
import { errno, statsFromNode } from './handle.js';
import type { Syscalls } from './syscalls.js';

/** Entries lstat'ed in one synchronous batch: under a millisecond on a warm local directory. */
const SYNC_BATCH = 128;
/**
 * Entries lstat'ed concurrently on the async path: enough to overlap I/O, few
 * enough that the threadpool queue (4 threads, shared by every session) does
 * not fill with one listing's calls on slow storage.
 */
const ASYNC_BATCH = 32;
/** Entries Node's `Dir` reads per readdir(3) batch; small values make iteration itself the bottleneck. */
const DIR_BUFFER = 256;

function nameOf(entry: NodeDirName): string {
  if (typeof entry === 'string') return entry;
  if (Buffer.isBuffer(entry)) return entry.toString();
  return String(entry.name);
}

/** A `Dir` as `opendir` returns it; node:fs and memfs also have the synchronous read and close. */
interface DirLike extends AsyncIterable<{ name: string | Buffer }> {
  readSync?(): { name: string | Buffer } | null;
  closeSync?(): void;
  close?(): Promise<void>;
}

/**
 * The entries of the directory at `host()` (FS path `path`), with lstat
 * attributes, produced lazily in batches: names come from `opendir` when the
 * fs-like has it (else `readdir`).
 *
 * While the FS's sync guard allows (see Syscalls), a batch is read and
 * lstat'ed synchronously: an async lstat costs a threadpool round trip of some
 * 15-20 µs, the syscall itself on a cached local directory 1-3 µs, and a
 * 128-entry batch blocks the event loop for well under a millisecond. The
 * guard times each batch (see SyncGuard.timeBatch), so slow batches turn this
 * off. Else
 * one batch is stat'ed with concurrent async calls while the next batch's
 * names are read — two batches in flight at most.
 *
 * A hand-written iterator rather than an async generator: a generator costs
 * several promise hops per entry, which for a 10,000-entry `ls -l` was more
 * than the lstat calls themselves.
 */
export function listDirectory(fsp: NodePromisesLike, sys: Syscalls, host: () => Promise<string>, path: string): AsyncIterableIterator<DirEntry> {
  return new DirectoryListing(fsp, sys, host, path);
}

class DirectoryListing implements AsyncIterableIterator<DirEntry> {
  private ready: DirEntry[] = [];
  private index = 0;
  private names?: NameSource;
  /** Async path: the batch being lstat'ed while the next names are read. */
  private statting?: Promise<DirEntry[]>;
  private finished = false;
  /** The directory's host path with a trailing slash, once known. */
  private prefix = '';
  /** A fill in progress, so that overlapping next() calls wait for it instead of racing it. */
  private filling?: Promise<void>;

  constructor(
    private readonly fsp: NodePromisesLike,
    private readonly sys: Syscalls,
    private readonly host: () => Promise<string>,
    private readonly path: string,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<DirEntry>> {
    if (this.index < this.ready.length) return Promise.resolve({ value: this.ready[this.index++]!, done: false });
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    this.filling ??= this.fill().finally(() => (this.filling = undefined));
    return this.filling.then(() => this.next(), async (error: unknown) => {
      await this.stop();
      throw error;
    });
  }

  async return(): Promise<IteratorResult<DirEntry>> {
    await this.stop();
    return { value: undefined, done: true };
  }

  private async stop(): Promise<void> {
    this.finished = true;
    this.ready = [];
    this.statting?.catch(() => {});
    this.statting = undefined;
    await this.names?.close();
  }

  /** Makes `ready` hold the next entries, or marks the listing finished. */
  private async fill(): Promise<void> {
    if (!this.names) {
      const host = await this.host();
      this.prefix = host.endsWith('/') ? host : host + '/';
      this.names = await openNames(this.fsp, host, this.path);
    }
    const names = this.names;
    const prefix = this.prefix;
    for (;;) {
      if (names.exhausted && !this.statting) {
        await this.stop();
        return;
      }
      const lstatNow = this.statting ? undefined : this.sys.lstatSyncForBatch();
      // Names and stats of a batch are timed together: a slow directory turns synchronous calls off.
      const entries = lstatNow && this.sys.metadata.timeBatch(() => {
        const batch = names.readSync(SYNC_BATCH);
        return batch && lstatSyncBatch(lstatNow, this.path, prefix, batch);
      }, (done) => done?.length ?? 1);
      if (entries) {
        this.take(entries);
      } else {
        const next = await names.read(ASYNC_BATCH);
        const current = this.statting;
        this.statting = next.length > 0 ? lstatAsyncBatch(this.sys, this.path, prefix, next) : undefined;
        // Handled when awaited on the next round; the no-op only stops it counting as unhandled meanwhile.
        this.statting?.catch(() => {});
        this.take(current ? await current : []);
      }
      if (this.index < this.ready.length) return;
    }
  }

  private take(entries: DirEntry[]): void {
    this.ready = entries;
    this.index = 0;
  }
}

/** Names of a directory in batches; `readSync` is undefined when only asynchronous reads are possible. */
interface NameSource {
  readonly exhausted: boolean;
  readSync(max: number): string[] | undefined;
  read(max: number): Promise<string[]>;
  close(): Promise<void>;
}

async function openNames(fsp: NodePromisesLike, host: string, path: string): Promise<NameSource> {
  if (typeof fsp.opendir === 'function') return new DirNames((await errno(path, fsp.opendir(host, { bufferSize: DIR_BUFFER }))) as DirLike, path);
  return new ArrayNames((await errno(path, fsp.readdir(host))).map(nameOf));
}

class DirNames implements NameSource {
  exhausted = false;
  private closed = false;
  private iterator?: AsyncIterator<{ name: string | Buffer }>;

  constructor(private readonly dir: DirLike, private readonly path: string) {}

  readSync(max: number): string[] | undefined {
    const dir = this.dir;
    if (typeof dir.readSync !== 'function' || this.iterator) return undefined;
    const names: string[] = [];
    try {
      while (names.length < max) {
        const entry = dir.readSync();
        if (entry === null) {
          this.exhausted = true;
          break;
        }
        names.push(nameOf(entry));
      }
    } catch (err) {
      throw fromErrno(err, this.path);
    }
    return names;
  }

  async read(max: number): Promise<string[]> {
    // The async iterator closes the Dir itself at the end.
    this.iterator ??= this.dir[Symbol.asyncIterator]();
    const names: string[] = [];
    while (names.length < max) {
      const next = await errno(this.path, this.iterator.next());
      if (next.done) {
        this.exhausted = true;
        this.closed = true;
        break;
      }
      names.push(nameOf(next.value));
    }
    return names;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Closing twice (the iterator already did) is refused: nothing is left to release then.
    if (this.iterator) await this.iterator.return?.().catch(() => {});
    else if (typeof this.dir.closeSync === 'function') this.dir.closeSync();
    else await this.dir.close?.();
  }
}

class ArrayNames implements NameSource {
  private position = 0;

  constructor(private readonly names: string[]) {}

  get exhausted(): boolean {
    return this.position >= this.names.length;
  }

  readSync(max: number): string[] {
    const batch = this.names.slice(this.position, this.position + max);
    this.position += batch.length;
    return batch;
  }

  async read(max: number): Promise<string[]> {
    return this.readSync(max);
  }

  async close(): Promise<void> {}
}

/** Removed between the listing and the lstat: it is simply no longer there; other errors name the entry. */
function missingIsGone(path: string, name: string, err: unknown): undefined {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw fromErrno(err, path === '/' ? `/${name}` : `${path}/${name}`);
}

function lstatSyncBatch(lstatNow: (path: string) => Parameters<typeof statsFromNode>[0], path: string, prefix: string, names: string[]): DirEntry[] {
  const entries: DirEntry[] = [];
  for (const name of names) {
    let stats: Stats | undefined;
    try {
      stats = statsFromNode(lstatNow(prefix + name));
    } catch (err) {
      stats = missingIsGone(path, name, err);
    }
    if (stats) entries.push({ name, stats });
  }
  return entries;
}

async function lstatAsyncBatch(sys: Syscalls, path: string, prefix: string, names: string[]): Promise<DirEntry[]> {
  const stats = await Promise.all(names.map((name) => sys.lstat(prefix + name).then(statsFromNode, (err: unknown) => missingIsGone(path, name, err))));
  const entries: DirEntry[] = [];
  names.forEach((name, i) => {
    if (stats[i]) entries.push({ name, stats: stats[i] });
  });
  return entries;
}
