import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { IsADirectory, NotADirectory, ResourceNotFound } from '../fs/errors.js';
import type { FS } from '../fs/FS.js';
import { flags, nowSeconds, type Specifier } from './harness.js';

// Permissions the usual umasks (022, 077) leave untouched, so local disks report them as set.
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
// A whole-second time well in the past: every backend can store it exactly.
const PAST = 1_000_000_000;

async function assertTimes(fs: FS, path: string, atime: number, mtime: number): Promise<void> {
  const stats = await fs.stat(path);
  assert.equal(Math.floor(stats.mtime), mtime);
  assert.equal(Math.floor(stats.atime), atime);
}

/** stat/lstat, setstat on paths and handles. */
export function describeAttributes(spec: Specifier): void {
  describeStat(spec);
  describeSetstat(spec);
}

/** stat/lstat and what they report for files, directories and missing paths. */
function describeStat(spec: Specifier): void {
  describe('stat and lstat', () => {
    spec.it('a file reports type file, its size and numeric attributes', async (fs) => {
      await fs.writeFile('/f', 'twelve bytes');
      for (const stats of [await fs.stat('/f'), await fs.lstat('/f')]) {
        assert.equal(stats.type, 'file');
        assert.equal(stats.size, 12);
        assert.equal(stats.permissions & ~0o7777, 0, 'permissions hold only the 0o7777 bits');
        for (const field of ['uid', 'gid', 'atime', 'mtime'] as const) {
          assert.equal(typeof stats[field], 'number', field);
          assert.ok(Number.isFinite(stats[field]), field);
        }
      }
    });

    spec.it('a directory reports type directory', async (fs) => {
      await fs.mkdir('/d');
      assert.equal((await fs.stat('/d')).type, 'directory');
      assert.equal((await fs.lstat('/d')).type, 'directory');
      assert.equal((await fs.stat('/')).type, 'directory');
    });

    spec.it('a missing path fails with ResourceNotFound', async (fs) => {
      await assert.rejects(fs.stat('/missing'), ResourceNotFound);
      await assert.rejects(fs.lstat('/missing'), ResourceNotFound);
      await assert.rejects(fs.stat('/missing/child'), ResourceNotFound);
    });

    spec.it('a path through a file fails with NotADirectory', async (fs) => {
      await fs.writeFile('/f', 'x');
      await assert.rejects(fs.stat('/f/child'), NotADirectory);
      await assert.rejects(fs.lstat('/f/child'), NotADirectory);
    });

    spec.requires('times', 'writing a file sets its mtime to about now', async (fs) => {
      const before = Math.floor(nowSeconds()) - 1;
      await fs.writeFile('/f', 'x');
      const { mtime } = await fs.stat('/f');
      assert.ok(mtime >= before && mtime <= nowSeconds() + 1, `mtime ${mtime} is about now`);
    });
  });
}

/** setstat on paths and on handles: size, permissions, ownership, times. */
function describeSetstat(spec: Specifier): void {
  describe('setstat', () => {
    spec.it('size truncates a file', async (fs) => {
      await fs.writeFile('/f', '0123456789');
      await fs.setstat('/f', { size: 4 });
      assert.equal((await fs.stat('/f')).size, 4);
      assert.equal((await fs.readFile('/f')).toString(), '0123');
    });

    spec.it('size extends a file with zeros', async (fs) => {
      await fs.writeFile('/f', 'ab');
      await fs.setstat('/f', { size: 5 });
      assert.deepEqual(await fs.readFile('/f'), Buffer.from([0x61, 0x62, 0, 0, 0]));
    });

    spec.it('size on a directory fails with IsADirectory', async (fs) => {
      await fs.mkdir('/d');
      await assert.rejects(fs.setstat('/d', { size: 0 }), IsADirectory);
    });

    spec.it('on a missing path fails with ResourceNotFound', async (fs) => {
      await assert.rejects(fs.setstat('/missing', { size: 0 }), ResourceNotFound);
    });

    spec.it('with no attributes changes nothing', async (fs) => {
      await fs.writeFile('/f', 'same');
      const before = await fs.stat('/f');
      await fs.setstat('/f', {});
      const after = await fs.stat('/f');
      assert.equal(after.size, before.size);
      assert.equal(after.permissions, before.permissions);
    });

    spec.requires('permissions', 'permissions are stored and reported', async (fs) => {
      await fs.writeFile('/f', 'x');
      await fs.setstat('/f', { permissions: 0o640 });
      assert.equal((await fs.stat('/f')).permissions, 0o640);
      await fs.setstat('/f', { permissions: 0o604 });
      assert.equal((await fs.stat('/f')).permissions, 0o604);
      await fs.mkdir('/d');
      await fs.setstat('/d', { permissions: 0o750 });
      assert.equal((await fs.stat('/d')).permissions, 0o750);
    });

    spec.requires('permissions', 'permissions given at creation apply to new files and directories', async (fs) => {
      const handle = await fs.open('/f', flags('write', 'create'), { permissions: FILE_MODE });
      await handle.close();
      assert.equal((await fs.stat('/f')).permissions, FILE_MODE);
      await fs.mkdir('/d', { permissions: DIR_MODE });
      assert.equal((await fs.stat('/d')).permissions, DIR_MODE);
    });

    spec.requires('ownership', 'uid and gid set to their current values are kept', async (fs) => {
      // Only a no-op chown is portable: a non-root local server may not give files away.
      await fs.writeFile('/f', 'x');
      const { uid, gid } = await fs.stat('/f');
      await fs.setstat('/f', { uid, gid });
      const after = await fs.stat('/f');
      assert.equal(after.uid, uid);
      assert.equal(after.gid, gid);
    });

    spec.requires('times', 'atime and mtime are stored and reported', async (fs) => {
      await fs.writeFile('/f', 'x');
      await fs.setstat('/f', { atime: PAST, mtime: PAST + 60 });
      await assertTimes(fs, '/f', PAST, PAST + 60);
      await fs.mkdir('/d');
      await fs.setstat('/d', { atime: PAST + 1, mtime: PAST + 2 });
      await assertTimes(fs, '/d', PAST + 1, PAST + 2);
    });
  });

  describe('handle stat and setstat', () => {
    spec.it('handle.stat reports the size written so far', async (fs) => {
      const handle = await fs.open('/f', flags('write', 'create'));
      try {
        await handle.write(0, Buffer.from('hello'));
        const stats = await handle.stat();
        assert.equal(stats.type, 'file');
        assert.equal(stats.size, 5);
      } finally {
        await handle.close();
      }
    });

    spec.requires('randomAccessWrites', 'handle.setstat size truncates and extends the open file', async (fs) => {
      await fs.writeFile('/f', 'abcdef');
      const handle = await fs.open('/f', flags('read', 'write'));
      try {
        await handle.setstat({ size: 2 });
        assert.equal((await handle.stat()).size, 2);
        assert.equal((await handle.read(0, 100)).toString(), 'ab');
        await handle.setstat({ size: 4 });
        assert.deepEqual(await handle.read(0, 100), Buffer.from([0x61, 0x62, 0, 0]));
      } finally {
        await handle.close();
      }
      assert.equal((await fs.stat('/f')).size, 4);
    });

    spec.requires('permissions', 'handle.setstat permissions apply to the file', async (fs) => {
      await fs.writeFile('/f', 'x');
      const handle = await fs.open('/f', flags('read'));
      try {
        await handle.setstat({ permissions: 0o640 });
        assert.equal((await handle.stat()).permissions, 0o640);
      } finally {
        await handle.close();
      }
      assert.equal((await fs.stat('/f')).permissions, 0o640);
    });

    spec.requires('times', 'handle.setstat times survive close', async (fs) => {
      // Clients (sftp put -p) set times on the handle after the last write, right before close.
      const handle = await fs.open('/f', flags('write', 'create'));
      await handle.write(0, Buffer.from('data'));
      await handle.setstat({ atime: PAST, mtime: PAST + 5 });
      await handle.close();
      await assertTimes(fs, '/f', PAST, PAST + 5);
    });
  });
}
