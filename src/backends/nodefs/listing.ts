import { fromErrno } from '../../fs/errors.js';
import type { DirEntry, Stats } from '../../fs/types.js';
import type { NodeDirName, NodePromisesLike } from './fsLike.js';
import { errno, statsFromNode } from './handle.js';
import type { Syscalls } from './syscalls.js';

/** How many entries of a listing are lstat'ed together: enough to overlap I/O, few enough to stay lazy. */
const LISTDIR_BATCH = 32;
/** Entries Node's `Dir` reads per readdir(3) batch; small values make iteration itself the bottleneck. */
const DIR_BUFFER = 128;

function nameOf(entry: NodeDirName): string {
  if (typeof entry === 'string') return entry;
  if (Buffer.isBuffer(entry)) return entry.toString();
  return String(entry.name);
}

/**
 * The entries of the directory at `host` (FS path `path`), with lstat
 * attributes, produced lazily: names come from `opendir` when the fs-like has
 * it (else `readdir`), and one batch is stat'ed while the next batch's names
 * are read — two batches in flight at most.
 */
export async function* listDirectory(fsp: NodePromisesLike, sys: Syscalls, host: string, path: string): AsyncIterable<DirEntry> {
  let pending: Promise<DirEntry[]> | undefined;
  let batch: string[] = [];
  for await (const name of directoryNames(fsp, host, path)) {
    batch.push(name);
    if (batch.length < LISTDIR_BATCH) continue;
    const next = lstatBatch(sys, host, path, batch);
    // Handled when awaited below; the no-op only stops it counting as unhandled meanwhile.
    next.catch(() => {});
    batch = [];
    if (pending) yield* await pending;
    pending = next;
  }
  if (pending) yield* await pending;
  if (batch.length > 0) yield* await lstatBatch(sys, host, path, batch);
}

async function* directoryNames(fsp: NodePromisesLike, host: string, path: string): AsyncIterable<string> {
  if (typeof fsp.opendir === 'function') {
    const dir = await errno(path, fsp.opendir(host, { bufferSize: DIR_BUFFER }));
    const iterator = dir[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await errno(path, iterator.next());
        if (next.done) return;
        yield nameOf(next.value);
      }
    } finally {
      // Closes the Dir when the consumer stops early; a second close after exhaustion is refused, hence the catch.
      await iterator.return?.().catch(() => {});
    }
  }
  for (const entry of await errno(path, fsp.readdir(host))) yield nameOf(entry);
}

/**
 * Stats one batch of listed names. An async lstat costs a threadpool round
 * trip of some 15-20 µs; the syscall itself, on a cached local directory,
 * 1-3 µs. So while the FS's sync guard allows (see Syscalls), a batch is
 * stat'ed synchronously (a 32-entry batch blocks the event loop for well
 * under a millisecond), else with concurrent async calls, which never block.
 */
async function lstatBatch(sys: Syscalls, host: string, path: string, names: string[]): Promise<DirEntry[]> {
  const prefix = host.endsWith('/') ? host : host + '/';
  const missingIsGone = (name: string) => (err: unknown) => {
    // Removed between the listing and the lstat: it is simply no longer there.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromErrno(err, path === '/' ? `/${name}` : `${path}/${name}`);
  };
  let stats: Array<Stats | undefined>;
  const lstatNow = sys.lstatNowOrUndefined();
  if (lstatNow) {
    stats = names.map((name) => {
      try {
        return statsFromNode(lstatNow(prefix + name));
      } catch (err) {
        return missingIsGone(name)(err);
      }
    });
  } else {
    stats = await Promise.all(names.map((name) => sys.lstat(prefix + name).then(statsFromNode, missingIsGone(name))));
  }
  const entries: DirEntry[] = [];
  names.forEach((name, i) => {
    if (stats[i]) entries.push({ name, stats: stats[i] });
  });
  return entries;
}
