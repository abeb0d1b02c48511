import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe } from 'node:test';
import { AlreadyExists, ResourceNotFound, Unsupported } from '../fs/errors.js';
import { parseOpenFlags, type HashAlgorithm } from '../fs/types.js';
import { pattern, type Specifier } from './harness.js';

function expectedHash(algorithm: HashAlgorithm, data: Buffer): Buffer {
  return createHash(algorithm).update(data).digest();
}

/** Optional capabilities (tested when the FS defines them) and the FS conveniences. */
export function describeCapabilities(spec: Specifier): void {
  describe('statvfs (optional)', () => {
    spec.it('reports consistent, non-negative capacity', async (fs, _features, t) => {
      if (typeof fs.statvfs !== 'function') return t.skip('backend has no statvfs');
      const info = await fs.statvfs('/');
      assert.ok(info.blockSize > 0 && info.fragmentSize > 0);
      assert.ok(info.blocks >= info.blocksFree && info.blocksFree >= info.blocksAvailable && info.blocksAvailable >= 0);
      assert.ok(info.files >= info.filesFree && info.filesFree >= 0);
      assert.ok(info.nameMax >= 255);
      assert.equal(typeof info.readOnly, 'boolean');
    });
  });

  describe('hash (optional)', () => {
    spec.it('of a whole file matches node:crypto over its content', async (fs, _features, t) => {
      if (typeof fs.hash !== 'function') return t.skip('backend has no hash');
      const data = pattern(100_000, 5);
      await fs.writeFile('/f', data);
      for (const algorithm of ['md5', 'sha1', 'sha256', 'sha512'] as const) {
        assert.deepEqual(await fs.hash('/f', algorithm, 0, 0), expectedHash(algorithm, data), algorithm);
      }
    });

    spec.it('of a range covers exactly that range, clipped at end of file', async (fs, _features, t) => {
      if (typeof fs.hash !== 'function') return t.skip('backend has no hash');
      const data = pattern(10_000, 9);
      await fs.writeFile('/f', data);
      assert.deepEqual(await fs.hash('/f', 'sha256', 1000, 2000), expectedHash('sha256', data.subarray(1000, 3000)));
      assert.deepEqual(await fs.hash('/f', 'sha256', 9000, 0), expectedHash('sha256', data.subarray(9000)));
      assert.deepEqual(await fs.hash('/f', 'md5', 9000, 5000), expectedHash('md5', data.subarray(9000)));
    });

    spec.it('of a missing file fails with ResourceNotFound', async (fs, _features, t) => {
      if (typeof fs.hash !== 'function') return t.skip('backend has no hash');
      await assert.rejects(fs.hash('/missing', 'sha256', 0, 0), ResourceNotFound);
    });
  });

  describe('copy (optional)', () => {
    spec.it('copies content to a new, independent file', async (fs, _features, t) => {
      if (typeof fs.copy !== 'function') return t.skip('backend has no copy');
      const data = pattern(50_000, 2);
      await fs.writeFile('/a', data);
      await fs.copy('/a', '/b', false);
      assert.deepEqual(await fs.readFile('/b'), data);
      await fs.writeFile('/b', 'changed');
      assert.deepEqual(await fs.readFile('/a'), data);
    });

    spec.it('refuses an existing target with AlreadyExists unless overwrite is set', async (fs, _features, t) => {
      if (typeof fs.copy !== 'function') return t.skip('backend has no copy');
      await fs.writeFile('/a', 'new');
      await fs.writeFile('/b', 'old content');
      await assert.rejects(fs.copy('/a', '/b', false), AlreadyExists);
      assert.equal((await fs.readFile('/b')).toString(), 'old content');
      await fs.copy('/a', '/b', true);
      assert.equal((await fs.readFile('/b')).toString(), 'new');
    });

    spec.it('of a missing source fails with ResourceNotFound', async (fs, _features, t) => {
      if (typeof fs.copy !== 'function') return t.skip('backend has no copy');
      await assert.rejects(fs.copy('/missing', '/b', false), ResourceNotFound);
      assert.equal(await fs.exists('/b'), false);
    });
  });

  describe('link (optional)', () => {
    spec.requires('hardlinks', 'a hard link shares content with the original', async (fs, _features, t) => {
      if (typeof fs.link !== 'function') return t.skip('backend has no link');
      await fs.writeFile('/a', 'shared');
      await fs.link('/a', '/b');
      assert.equal((await fs.readFile('/b')).toString(), 'shared');
      // Changed in place (no truncate: a backend may publish a truncating upload as a new file).
      const handle = await fs.open('/b', parseOpenFlags('r+'));
      await handle.write(0, Buffer.from('SHARED'));
      await handle.close();
      assert.equal((await fs.readFile('/a')).toString(), 'SHARED');
      const { nlink } = await fs.stat('/a');
      if (nlink !== undefined) assert.equal(nlink, 2);
      await fs.remove('/a');
      assert.equal((await fs.readFile('/b')).toString(), 'SHARED');
    });

    spec.requires('hardlinks', 'an existing link name fails with AlreadyExists, a missing target with ResourceNotFound', async (fs, _features, t) => {
      if (typeof fs.link !== 'function') return t.skip('backend has no link');
      await fs.writeFile('/a', 'x');
      await fs.writeFile('/b', 'y');
      await assert.rejects(fs.link('/a', '/b'), AlreadyExists);
      await assert.rejects(fs.link('/missing', '/c'), ResourceNotFound);
    });

    spec.lacks('hardlinks', 'link is absent or fails with Unsupported', async (fs) => {
      if (typeof fs.link !== 'function') return;
      await fs.writeFile('/a', 'x');
      await assert.rejects(fs.link('/a', '/b'), Unsupported);
    });
  });

  describe('conveniences', () => {
    spec.it('exists tells present from missing paths', async (fs) => {
      await fs.writeFile('/f', 'x');
      await fs.mkdir('/d');
      assert.equal(await fs.exists('/f'), true);
      assert.equal(await fs.exists('/d'), true);
      assert.equal(await fs.exists('/missing'), false);
      assert.equal(await fs.exists('/missing/child'), false);
    });

    spec.it('writeFile then readFile round-trips bytes, including more than one read chunk', async (fs) => {
      const data = pattern(3 * 1024 * 1024 + 17, 4);
      await fs.writeFile('/f', data);
      assert.deepEqual(await fs.readFile('/f'), data);
    });

    spec.it('writeFile replaces longer content entirely', async (fs) => {
      await fs.writeFile('/f', 'a much longer original');
      await fs.writeFile('/f', 'short');
      assert.equal((await fs.readFile('/f')).toString(), 'short');
    });

    spec.it('readFile of a missing file fails with ResourceNotFound', async (fs) => {
      await assert.rejects(fs.readFile('/missing'), ResourceNotFound);
    });
  });
}
