/**
 * The synchronous fast path of NodeFS/LocalFS (src/backends/nodefs/syscalls.ts):
 * metadata calls are made synchronously on a fast fs, and an fs whose
 * synchronous calls are slow is switched to the asynchronous ones until
 * they are fast again.
 * The fs-likes here are the real node:fs, wrapped only to count which form
 * of each call was used and, for the slow one, to busy-wait in the
 * synchronous forms as blocking storage would.
 */
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { LocalFS } from '../../src/backends/local.js';
import { NodeFS, type NodeFSLike } from '../../src/backends/nodefs.js';
import { ResourceNotFound, parseOpenFlags } from '../../src/fs/index.js';
import { makeTempDir } from '../helpers/tempDir.js';

interface CountingFs {
  fs: NodeFSLike;
  /** Calls of the synchronous forms (`statSync`, `readSync`...), by name. */
  sync: Map<string, number>;
  /** Calls of `fs.promises` functions and callback forms, by name. */
  async: Map<string, number>;
  /** Makes the storage slow (as built) or fast again. */
  setSlow(slow: boolean): void;
}

const busyWait = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

/**
 * node:fs with counters. While slow, the functions named in `slow` (all of
 * them for `'all'`) take `delayMs` longer, as blocking storage would: the
 * synchronous forms busy-wait, the asynchronous ones (`read` for `readSync`,
 * `promises.lstat` for `lstatSync`) answer that much later. `instantWhenFast`:
 * while fast, `fs.promises` functions answer through the synchronous form.
 */
function countingNodeFs(slow: 'none' | 'all' | ReadonlySet<string> = 'none', delayMs = 5, options: { instantWhenFast?: boolean } = {}): CountingFs {
  const sync = new Map<string, number>();
  const async = new Map<string, number>();
  let slowNow = true;
  const bump = (map: Map<string, number>, name: string) => map.set(name, (map.get(name) ?? 0) + 1);
  const isSlow = (syncName: string) => slowNow && (slow === 'all' || (slow !== 'none' && slow.has(syncName)));
  const later = () => new Promise((resolve) => setTimeout(resolve, delayMs));
  const fs: Record<string, unknown> = { constants: nodeFs.constants };
  for (const [name, value] of Object.entries(nodeFs)) {
    if (typeof value !== 'function' || name === 'promises') continue;
    const call = value as (...a: unknown[]) => unknown;
    if (name.endsWith('Sync')) {
      const wrapped = (...args: unknown[]) => {
        bump(sync, name);
        if (isSlow(name)) busyWait(delayMs);
        return call(...args);
      };
      // realpathSync.native is what NodeFS prefers; it must be counted (and slowed) too.
      if (name === 'realpathSync') (wrapped as unknown as { native: unknown }).native = wrapped;
      fs[name] = wrapped;
    } else {
      fs[name] = (...args: unknown[]) => {
        bump(async, name);
        if (!isSlow(`${name}Sync`)) return call(...args);
        void later().then(() => call(...args));
      };
    }
  }
  const promises: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(nodeFs.promises)) {
    if (typeof value !== 'function') continue;
    const call = value as (...a: unknown[]) => Promise<unknown>;
    const syncForm = (nodeFs as unknown as Record<string, unknown>)[`${name}Sync`] as ((...a: unknown[]) => unknown) | undefined;
    promises[name] = async (...args: unknown[]) => {
      bump(async, `promises.${name}`);
      if (isSlow(`${name}Sync`)) await later();
      // Fast storage answering at once, whatever the threadpool's latency on a loaded machine.
      else if (options.instantWhenFast && syncForm) return syncForm(...args);
      return call(...args);
    };
  }
  fs.promises = promises;
  return { fs: fs as unknown as NodeFSLike, sync, async, setSlow: (value) => (slowNow = value) };
}

const total = (map: Map<string, number>, filter: (name: string) => boolean = () => true) =>
  [...map].filter(([name]) => filter(name)).reduce((sum, [, count]) => sum + count, 0);

describe('NodeFS synchronous fast path', () => {
  let dir: ReturnType<typeof makeTempDir>;
  before(() => {
    dir = makeTempDir();
  });
  after(() => dir.remove());

  it('makes metadata calls and small reads synchronously on a fast fs', async () => {
    const counting = countingNodeFs();
    const fs = new NodeFS(counting.fs, { root: dir.path });
    await fs.mkdir('/fast');
    for (let i = 0; i < 20; i++) await fs.writeFile(`/fast/f${i}`, `content ${i}`);
    for (let i = 0; i < 20; i++) {
      // As an SFTP client reads: 32 KiB at a time, until a short read.
      const handle = await fs.open(`/fast/f${i}`, parseOpenFlags('r'));
      assert.equal((await handle.read(0, 32 * 1024)).toString(), `content ${i}`);
      assert.equal((await handle.read(32 * 1024, 32 * 1024)).length, 0);
      await handle.close();
    }
    await fs.stat('/fast/f0');
    await fs.rename('/fast/f0', '/fast/g0');
    await fs.remove('/fast/g0');
    assert.equal((await fs.listdirAll('/fast')).length, 19);
    // Only the directory listing (opendir and its iteration) is asynchronous.
    assert.deepEqual([...counting.async.keys()].filter((name) => name !== 'promises.opendir'), []);
    assert.ok((counting.sync.get('openSync') ?? 0) >= 40);
    assert.ok((counting.sync.get('readSync') ?? 0) >= 40);
    assert.ok((counting.sync.get('closeSync') ?? 0) >= 40);
  });

  it('switches an fs whose synchronous calls are slow to the asynchronous ones, and stays correct', async () => {
    const counting = countingNodeFs('all');
    const fs = new NodeFS(counting.fs, { root: dir.path });
    await fs.mkdir('/slow');
    for (let i = 0; i < 10; i++) await fs.writeFile(`/slow/f${i}`, `slow ${i}`);
    const syncBefore = total(counting.sync);
    // Each guard (metadata, data) gives up after 3 slow calls in a row: far fewer than the calls made.
    assert.ok(syncBefore <= 6, `${syncBefore} synchronous calls`);
    for (let i = 0; i < 10; i++) assert.equal((await fs.readFile(`/slow/f${i}`)).toString(), `slow ${i}`);
    await fs.stat('/slow/f1');
    await fs.setstat('/slow/f1', { permissions: 0o600 });
    await fs.rename('/slow/f1', '/slow/g1');
    await assert.rejects(fs.stat('/slow/f1'), ResourceNotFound);
    assert.equal((await fs.listdirAll('/slow')).length, 10);
    // While the storage stays slow: not one more synchronous call, although every later call had a synchronous form.
    assert.equal(total(counting.sync), syncBefore);
    assert.ok(total(counting.async) > 40);
  });

  it('turns synchronous calls back on once the asynchronous ones are fast again, and waits longer each time', async () => {
    const counting = countingNodeFs('all', 3, { instantWhenFast: true });
    const fs = new NodeFS(counting.fs, { root: dir.path });
    await fs.mkdir('/passing');
    await fs.writeFile('/passing/f', 'data');
    const stats = async (count: number) => {
      for (let i = 0; i < count; i++) await fs.stat('/passing/f');
    };
    const syncStats = () => counting.sync.get('statSync') ?? 0;
    /** Stats until one is synchronous again; how many that took (a loaded machine can make a fast call slow, and restart the count). */
    const statsUntilSynchronous = async () => {
      const before = syncStats();
      for (let calls = 1; calls <= 5000; calls++) {
        await fs.stat('/passing/f');
        if (syncStats() > before) return calls;
      }
      throw new Error('synchronous calls never came back');
    };
    await stats(3);
    const whileSlow = syncStats();
    await stats(100);
    assert.equal(syncStats(), whileSlow, 'slow asynchronous calls keep synchronous ones off');
    counting.setSlow(false);
    assert.ok((await statsUntilSynchronous()) > 64, 'back after 64 fast asynchronous calls in a row, not before');
    // Slow again: off after three slow calls, and now it takes 128 fast ones.
    counting.setSlow(true);
    await stats(3);
    counting.setSlow(false);
    assert.ok((await statsUntilSynchronous()) > 128);
  });

  it('lists a directory of several batches asynchronously once synchronous calls are off, each entry once', async () => {
    const counting = countingNodeFs('all');
    const fs = new NodeFS(counting.fs, { root: dir.path });
    nodeFs.mkdirSync(`${dir.path}/many`);
    for (let i = 0; i < 300; i++) nodeFs.writeFileSync(`${dir.path}/many/f${i}`, 'x'.repeat(i % 5));
    // Three slow calls turn the synchronous forms off; the listing then takes the asynchronous path throughout.
    for (let i = 0; i < 3; i++) await fs.stat('/many');
    const syncBefore = total(counting.sync);
    const entries = await fs.listdirAll('/many');
    assert.equal(total(counting.sync), syncBefore);
    assert.equal(entries.length, 300);
    assert.equal(new Set(entries.map((e) => e.name)).size, 300);
    for (const { name, stats } of entries) assert.equal(stats.size, Number(name.slice(1)) % 5, name);
  });

  it('turns synchronous listing off when whole batches are slow, though each lstat is under the per-call limit', async () => {
    // 0.3 ms per lstat, under the 2 ms a single call may take; a batch of them is storage that blocks.
    const counting = countingNodeFs(new Set(['lstatSync']), 0.3);
    const fs = new NodeFS(counting.fs, { root: dir.path });
    nodeFs.mkdirSync(`${dir.path}/cold-listing`);
    for (let i = 0; i < 1000; i++) nodeFs.writeFileSync(`${dir.path}/cold-listing/f${i}`, '');
    const entries = await fs.listdirAll('/cold-listing');
    assert.equal(new Set(entries.map((e) => e.name)).size, 1000);
    const syncLstats = counting.sync.get('lstatSync') ?? 0;
    // Three slow batches in a row, then the rest asynchronously.
    assert.ok(syncLstats > 0 && syncLstats <= 3 * 128, `${syncLstats} synchronous lstats`);
    assert.equal((counting.async.get('promises.lstat') ?? 0) + syncLstats, 1000);
  });

  it('turns off synchronous reads of a slow file without turning off synchronous metadata', async () => {
    const counting = countingNodeFs(new Set(['readSync']));
    const fs = new NodeFS(counting.fs, { root: dir.path });
    await fs.mkdir('/cold');
    for (let i = 0; i < 10; i++) await fs.writeFile(`/cold/f${i}`, `cold ${i}`);
    for (let i = 0; i < 10; i++) {
      const handle = await fs.open(`/cold/f${i}`, parseOpenFlags('r'));
      assert.equal((await handle.read(0, 32 * 1024)).toString(), `cold ${i}`);
      await handle.close();
    }
    assert.ok((counting.sync.get('readSync') ?? 0) <= 3);
    assert.ok((counting.async.get('read') ?? 0) > 0, 'reads went asynchronous');
    // Opens and closes of every file stayed synchronous.
    assert.equal(counting.async.get('open') ?? 0, 0);
    assert.equal(counting.async.get('close') ?? 0, 0);
  });

  it('reads and writes more than 64 KiB at once asynchronously', async () => {
    const counting = countingNodeFs();
    const fs = new NodeFS(counting.fs, { root: dir.path });
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    await fs.writeFile('/big', data);
    assert.ok(Buffer.from(await fs.readFile('/big')).equals(data));
    assert.ok((counting.async.get('write') ?? 0) >= 1, 'the large write is asynchronous');
    const handle = await fs.open('/big', parseOpenFlags('r'));
    assert.equal((await handle.read(0, 256 * 1024)).length, 256 * 1024);
    await handle.close();
    assert.ok((counting.async.get('read') ?? 0) >= 1);
  });

  it('never touches a descriptor again after close (a reused number belongs to another file)', async () => {
    const fs = new NodeFS(nodeFs, { root: dir.path });
    await fs.writeFile('/one', 'one');
    await fs.writeFile('/two', 'two');
    const first = await fs.open('/one', parseOpenFlags('r'));
    await first.close();
    // The kernel hands the freed number to the next open.
    const second = await fs.open('/two', parseOpenFlags('r'));
    await assert.rejects(first.close());
    await assert.rejects(first.read(0, 10));
    assert.equal((await second.read(0, 10)).toString(), 'two');
    await second.close();
  });
});

describe('LocalFS over the fast path', () => {
  it('leaves no descriptor open after many opens, failed opens of directories included', async () => {
    const dir = makeTempDir();
    try {
      const fs = new LocalFS({ root: dir.path });
      await fs.mkdir('/d');
      const openBefore = readdirSync('/proc/self/fd').length;
      for (let i = 0; i < 200; i++) {
        await fs.writeFile(`/d/f${i}`, 'x');
        await fs.readFile(`/d/f${i}`);
        await assert.rejects(fs.open('/d', parseOpenFlags('r')));
      }
      assert.equal(readdirSync('/proc/self/fd').length, openBefore);
    } finally {
      dir.remove();
    }
  });

  it('closes each listed directory, whether listed to the end or stopped early', async () => {
    const dir = makeTempDir();
    try {
      const fs = new LocalFS({ root: dir.path });
      await fs.mkdir('/d');
      // Several batches, so that stopping early leaves names unread.
      for (let i = 0; i < 300; i++) nodeFs.writeFileSync(`${dir.path}/d/f${i}`, '');
      const openBefore = readdirSync('/proc/self/fd').length;
      for (let round = 0; round < 20; round++) {
        const names = (await fs.listdirAll('/d')).map((entry) => entry.name);
        assert.equal(new Set(names).size, 300);
        let seen = 0;
        for await (const _entry of fs.listdir('/d')) if (++seen === 150) break;
      }
      assert.equal(readdirSync('/proc/self/fd').length, openBefore);
    } finally {
      dir.remove();
    }
  });

  it('opens a FIFO without waiting for a writer (a blocked synchronous open would freeze every session)', async () => {
    const dir = makeTempDir();
    try {
      assert.equal(spawnSync('mkfifo', [`${dir.path}/pipe`]).status, 0, 'mkfifo');
      const fs = new LocalFS({ root: dir.path });
      const handle = await fs.open('/pipe', parseOpenFlags('r'));
      // A pipe cannot be read at an offset (ESPIPE, as OpenSSH's seek-then-read gets): refused at once, not waited on.
      await assert.rejects(handle.read(0, 1024));
      await handle.close();
      // Writing with no reader fails (ENXIO) rather than waits.
      await assert.rejects(fs.open('/pipe', parseOpenFlags('w')));
    } finally {
      dir.remove();
    }
  });
});
