import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { AlreadyExists, FSError, IsADirectory, NotADirectory, ResourceNotFound } from '../fs/errors.js';
import { readIntoFile } from '../fs/readInto.js';
import { flags, pattern, readToEnd, type Specifier } from './harness.js';

/** open(): how each flag combination creates, truncates, refuses or appends. */
export function describeOpen(spec: Specifier): void {
  describe('open', () => {
    spec.it('create makes a missing file, empty', async (fs) => {
      const handle = await fs.open('/new', flags('write', 'create'));
      await handle.close();
      const stats = await fs.stat('/new');
      assert.equal(stats.type, 'file');
      assert.equal(stats.size, 0);
    });

    spec.it('create without exclusive keeps an existing file and its content', async (fs) => {
      await fs.writeFile('/f', 'keep me');
      const handle = await fs.open('/f', flags('read', 'write', 'create'));
      assert.equal((await handle.read(0, 100)).toString(), 'keep me');
      await handle.close();
      assert.equal((await fs.readFile('/f')).toString(), 'keep me');
    });

    spec.it('create with exclusive fails with AlreadyExists when the file exists, leaving it intact', async (fs) => {
      await fs.writeFile('/f', 'original');
      await assert.rejects(fs.open('/f', flags('write', 'create', 'exclusive')), AlreadyExists);
      assert.equal((await fs.readFile('/f')).toString(), 'original');
    });

    spec.it('create with exclusive makes a missing file', async (fs) => {
      const handle = await fs.open('/f', flags('write', 'create', 'exclusive'));
      await handle.write(0, Buffer.from('x'));
      await handle.close();
      assert.equal((await fs.readFile('/f')).toString(), 'x');
    });

    spec.it('truncate empties an existing file', async (fs) => {
      await fs.writeFile('/f', 'some longer content');
      const handle = await fs.open('/f', flags('write', 'truncate'));
      assert.equal((await handle.stat()).size, 0);
      await handle.write(0, Buffer.from('short'));
      await handle.close();
      assert.equal((await fs.readFile('/f')).toString(), 'short');
    });

    spec.it('append writes at the end whatever offset a write names', async (fs) => {
      await fs.writeFile('/f', 'head');
      const handle = await fs.open('/f', flags('write', 'append'));
      await handle.write(0, Buffer.from('-one'));
      await handle.write(1, Buffer.from('-two'));
      await handle.close();
      assert.equal((await fs.readFile('/f')).toString(), 'head-one-two');
    });

    spec.it('opening a missing file without create fails with ResourceNotFound', async (fs) => {
      await assert.rejects(fs.open('/missing', flags('read')), ResourceNotFound);
      await assert.rejects(fs.open('/missing', flags('write')), ResourceNotFound);
      assert.equal(await fs.exists('/missing'), false);
    });

    spec.it('creating a file in a missing directory fails with ResourceNotFound', async (fs) => {
      await assert.rejects(fs.open('/no/such/dir/f', flags('write', 'create')), ResourceNotFound);
    });

    spec.it('creating a file below a file fails with NotADirectory', async (fs) => {
      await fs.writeFile('/f', 'x');
      await assert.rejects(fs.open('/f/child', flags('write', 'create')), NotADirectory);
    });

    spec.it('a directory opened for reading fails with IsADirectory, at open or at the first read', async (fs) => {
      await fs.mkdir('/d');
      let handle;
      try {
        handle = await fs.open('/d', flags('read'));
      } catch (err) {
        assert.ok(err instanceof IsADirectory, `expected IsADirectory, got ${String(err)}`);
        return;
      }
      try {
        await assert.rejects(handle.read(0, 10), IsADirectory);
      } finally {
        await handle.close();
      }
    });

    spec.it('a directory cannot be opened for writing (IsADirectory)', async (fs) => {
      await fs.mkdir('/d');
      await assert.rejects(fs.open('/d', flags('write')), IsADirectory);
      await assert.rejects(fs.open('/d', flags('write', 'create')), IsADirectory);
    });

    spec.it('a handle opened write-only refuses reads', async (fs) => {
      await fs.writeFile('/f', 'secret');
      const handle = await fs.open('/f', flags('write'));
      try {
        await assert.rejects(handle.read(0, 10), FSError);
      } finally {
        await handle.close();
      }
    });

    spec.it('a handle opened read-only refuses writes and leaves the file unchanged', async (fs) => {
      await fs.writeFile('/f', 'stable');
      const handle = await fs.open('/f', flags('read'));
      try {
        await assert.rejects(handle.write(0, Buffer.from('XX')), FSError);
      } finally {
        await handle.close();
      }
      assert.equal((await fs.readFile('/f')).toString(), 'stable');
    });
  });
}

/** read()/write(): offsets, end of file, holes. */
export function describeReadWrite(spec: Specifier): void {
  describe('read and write', () => {
    spec.it('read returns the bytes at the given offset', async (fs) => {
      await fs.writeFile('/f', '0123456789');
      const handle = await fs.open('/f', flags('read'));
      try {
        assert.equal((await handle.read(3, 4)).toString(), '3456');
        assert.equal((await handle.read(0, 1)).toString(), '0');
      } finally {
        await handle.close();
      }
    });

    spec.it('read at or past end of file returns an empty buffer', async (fs) => {
      await fs.writeFile('/f', 'abc');
      const handle = await fs.open('/f', flags('read'));
      try {
        assert.equal((await handle.read(3, 10)).length, 0);
        assert.equal((await handle.read(1000, 10)).length, 0);
      } finally {
        await handle.close();
      }
    });

    spec.it('a read crossing end of file is short', async (fs) => {
      await fs.writeFile('/f', 'abcdef');
      const handle = await fs.open('/f', flags('read'));
      try {
        assert.equal((await handle.read(4, 100)).toString(), 'ef');
      } finally {
        await handle.close();
      }
    });

    spec.it('readInto (the server\'s READ path: the handle\'s own, or read and copy) fills the target as read returns', async (fs) => {
      const content = pattern(100_000);
      await fs.writeFile('/f', content);
      const handle = await fs.open('/f', flags('read'));
      try {
        for (const [offset, length] of [[0, 100_000], [3, 70_000], [99_990, 64], [100_000, 10], [200_000, 10]] as const) {
          const target = Buffer.alloc(length, 0xaa);
          // A short read is allowed (clients ask again for the rest); 0 only at end of file.
          let filled = 0;
          for (let bytes = -1; bytes !== 0 && filled < length; filled += bytes) {
            bytes = await readIntoFile(handle, target.subarray(filled), offset + filled);
          }
          const expected = content.subarray(Math.min(offset, content.length), Math.min(offset + length, content.length));
          assert.equal(filled, expected.length, `bytes read at ${offset}`);
          assert.ok(target.subarray(0, filled).equals(expected), `content at ${offset}`);
        }
      } finally {
        await handle.close();
      }
    });

    spec.it('an empty file reads as empty', async (fs) => {
      await fs.writeFile('/f', '');
      const handle = await fs.open('/f', flags('read'));
      try {
        assert.equal((await handle.read(0, 100)).length, 0);
      } finally {
        await handle.close();
      }
    });

    spec.it('sequential 32 KiB writes produce the concatenated content', async (fs) => {
      const data = pattern(5 * 32 * 1024 + 123);
      const handle = await fs.open('/f', flags('write', 'create', 'truncate'));
      for (let offset = 0; offset < data.length; offset += 32 * 1024) {
        await handle.write(offset, data.subarray(offset, offset + 32 * 1024));
      }
      await handle.close();
      assert.deepEqual(await fs.readFile('/f'), data);
      assert.equal((await fs.stat('/f')).size, data.length);
    });

    spec.it('out-of-order writes within a small window (chunks 2, 1, 3 of 32 KiB) give the right bytes', async (fs) => {
      const chunk = 32 * 1024;
      const data = pattern(3 * chunk, 7);
      const handle = await fs.open('/f', flags('write', 'create', 'truncate'));
      for (const index of [1, 0, 2]) {
        await handle.write(index * chunk, data.subarray(index * chunk, (index + 1) * chunk));
      }
      await handle.close();
      assert.deepEqual(await fs.readFile('/f'), data);
    });

    spec.it('pipelined writes (all issued before any completes) give the right bytes', async (fs) => {
      // SFTP clients keep many writes in flight; a backend must not depend on completion order.
      const chunk = 32 * 1024;
      const data = pattern(8 * chunk, 11);
      const handle = await fs.open('/f', flags('write', 'create', 'truncate'));
      const order = [0, 2, 1, 3, 5, 4, 6, 7];
      await Promise.all(order.map((i) => handle.write(i * chunk, data.subarray(i * chunk, (i + 1) * chunk))));
      await handle.close();
      assert.deepEqual(await fs.readFile('/f'), data);
    });

    spec.requires('randomAccessWrites', 'overwriting in the middle changes only those bytes, not the size', async (fs) => {
      await fs.writeFile('/f', 'aaaaaaaaaa');
      const handle = await fs.open('/f', flags('read', 'write'));
      await handle.write(3, Buffer.from('XYZ'));
      assert.equal((await handle.read(0, 100)).toString(), 'aaaXYZaaaa');
      await handle.close();
      assert.equal((await fs.readFile('/f')).toString(), 'aaaXYZaaaa');
    });

    spec.requires('randomAccessWrites', 'a write past end of file leaves a zero-filled hole', async (fs) => {
      const handle = await fs.open('/f', flags('read', 'write', 'create'));
      await handle.write(0, Buffer.from('ab'));
      await handle.write(100_000, Buffer.from('cd'));
      assert.equal((await handle.stat()).size, 100_002);
      await handle.close();
      const content = await fs.readFile('/f');
      assert.equal(content.length, 100_002);
      assert.equal(content.subarray(0, 2).toString(), 'ab');
      assert.ok(content.subarray(2, 100_000).every((byte) => byte === 0), 'hole is zero-filled');
      assert.equal(content.subarray(100_000).toString(), 'cd');
    });

    spec.lacks('randomAccessWrites', 'a write far beyond the reorder window fails with an FSError or zero-fills, never corrupts', async (fs) => {
      const far = 64 * 1024 * 1024;
      const handle = await fs.open('/f', flags('write', 'create'));
      let failed = false;
      try {
        await handle.write(0, Buffer.from('ab'));
        await handle.write(far, Buffer.from('cd'));
      } catch (err) {
        assert.ok(err instanceof FSError, `expected an FSError, got ${String(err)}`);
        failed = true;
      }
      try {
        await handle.close();
      } catch (err) {
        assert.ok(err instanceof FSError, `expected an FSError, got ${String(err)}`);
        failed = true;
      }
      if (failed) return;
      const stats = await fs.stat('/f');
      assert.equal(stats.size, far + 2);
    });

    spec.requires('randomAccessWrites', 'handles read what was written through them before close', async (fs) => {
      const handle = await fs.open('/f', flags('read', 'write', 'create'));
      try {
        await handle.write(0, Buffer.from('hello'));
        assert.equal((await readToEnd(handle)).toString(), 'hello');
      } finally {
        await handle.close();
      }
    });

    spec.it('close makes the written content visible to stat and to new handles', async (fs) => {
      const data = pattern(70_000, 3);
      const handle = await fs.open('/f', flags('write', 'create'));
      await handle.write(0, data);
      await handle.close();
      assert.equal((await fs.stat('/f')).size, data.length);
      const reader = await fs.open('/f', flags('read'));
      try {
        assert.deepEqual(await readToEnd(reader), data);
      } finally {
        await reader.close();
      }
    });
  });
}
