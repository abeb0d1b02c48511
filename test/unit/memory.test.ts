import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import { InsufficientStorage, InvalidArgument, InvalidPath, PermissionDenied, ResourceNotFound } from '../../src/fs/errors.js';
import { parseOpenFlags } from '../../src/fs/types.js';

const BLOCK = 4096;

async function usedBlocks(fs: MemoryFS): Promise<number> {
  const info = await fs.statvfs('/');
  return info.blocks - info.blocksFree;
}

describe('MemoryFS', () => {
  describe('open handles (POSIX unlink semantics)', () => {
    it('a handle keeps reading and writing a file after its name is removed', async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/f', 'still here');
      const handle = await fs.open('/f', parseOpenFlags('r+'));
      await fs.remove('/f');
      assert.equal(await fs.exists('/f'), false);
      assert.equal((await handle.read(0, 100)).toString(), 'still here');
      await handle.write(0, Buffer.from('STILL'));
      assert.equal((await handle.read(0, 100)).toString(), 'STILL here');
      assert.equal((await handle.stat()).nlink, 0);
      await handle.close();
    });

    it('an unlinked file holds its space until the last handle closes', async () => {
      const fs = new MemoryFS({ capacity: 100 * BLOCK });
      await fs.writeFile('/f', Buffer.alloc(10 * BLOCK, 1));
      assert.equal(await usedBlocks(fs), 10);
      const handle = await fs.open('/f', parseOpenFlags('r'));
      await fs.remove('/f');
      assert.equal(await usedBlocks(fs), 10);
      await handle.close();
      assert.equal(await usedBlocks(fs), 0);
    });

    it('a handle follows its file through a rename', async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/a', '');
      const handle = await fs.open('/a', parseOpenFlags('w'));
      await fs.rename('/a', '/b');
      await handle.write(0, Buffer.from('written after rename'));
      await handle.close();
      assert.equal((await fs.readFile('/b')).toString(), 'written after rename');
    });

    it('a closed handle refuses further use, and a second close is harmless', async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/f', 'x');
      const handle = await fs.open('/f', parseOpenFlags('r'));
      await handle.close();
      await assert.rejects(handle.read(0, 1), InvalidArgument);
      await handle.close();
    });

    it('a read-only handle refuses writes with PermissionDenied', async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/f', 'x');
      const handle = await fs.open('/f', parseOpenFlags('r'));
      await assert.rejects(handle.write(0, Buffer.from('y')), PermissionDenied);
      await handle.close();
    });

    it('negative offsets are refused with InvalidArgument', async () => {
      const fs = new MemoryFS();
      const handle = await fs.open('/f', parseOpenFlags('w+'));
      await assert.rejects(handle.write(-1, Buffer.from('y')), InvalidArgument);
      await assert.rejects(handle.read(-5, 1), InvalidArgument);
      await handle.close();
    });
  });

  describe('hard links', () => {
    it('share one inode: content, size, attributes and a link count', async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/a', 'one');
      await fs.link('/a', '/b');
      assert.equal((await fs.stat('/a')).nlink, 2);
      await fs.setstat('/b', { permissions: 0o600 });
      assert.equal((await fs.stat('/a')).permissions, 0o600);
      const handle = await fs.open('/a', parseOpenFlags('a'));
      await handle.write(0, Buffer.from('+two'));
      await handle.close();
      assert.equal((await fs.readFile('/b')).toString(), 'one+two');
      await fs.remove('/b');
      assert.equal((await fs.stat('/a')).nlink, 1);
      assert.equal((await fs.readFile('/a')).toString(), 'one+two');
    });

    it('copy overwrites in place, so other links to the target see the new content', async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/src', 'fresh');
      await fs.writeFile('/dst', 'stale content');
      await fs.link('/dst', '/dst-link');
      await fs.copy('/src', '/dst', true);
      assert.equal((await fs.readFile('/dst-link')).toString(), 'fresh');
    });

    it('renaming one name of an inode onto another is a no-op, as rename(2) specifies', async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/a', 'x');
      await fs.link('/a', '/b');
      await fs.posixRename('/a', '/b');
      assert.equal(await fs.exists('/a'), true);
      assert.equal(await fs.exists('/b'), true);
    });

    it('a directory cannot be hard-linked', async () => {
      const fs = new MemoryFS();
      await fs.mkdir('/d');
      await assert.rejects(fs.link('/d', '/e'), PermissionDenied);
    });
  });

  describe('symlink resolution', () => {
    it('a loop fails with InvalidPath "Too many levels of symbolic links"', async () => {
      const fs = new MemoryFS();
      await fs.symlink('self', '/self');
      await assert.rejects(fs.stat('/self'), (err: unknown) => {
        assert.ok(err instanceof InvalidPath);
        assert.match(err.message, /Too many levels of symbolic links/);
        return true;
      });
      await assert.rejects(fs.open('/self', parseOpenFlags('w')), InvalidPath);
      await assert.rejects(fs.realpath('/self/x'), InvalidPath);
    });

    it('follows a chain of 40 links (Linux MAXSYMLINKS) but not 41', async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/target', 'end');
      await fs.symlink('/target', '/link0');
      for (let i = 1; i <= 40; i++) await fs.symlink(`/link${i - 1}`, `/link${i}`);
      assert.equal((await fs.readFile('/link39')).toString(), 'end');
      await assert.rejects(fs.readFile('/link40'), InvalidPath);
    });

    it('creating through a dangling link creates its target, as open(O_CREAT) does', async () => {
      const fs = new MemoryFS();
      await fs.symlink('created-later', '/link');
      await fs.writeFile('/link', 'via link');
      assert.equal((await fs.readFile('/created-later')).toString(), 'via link');
      assert.equal((await fs.lstat('/link')).type, 'symlink');
    });

    it('an empty target is refused with ResourceNotFound, as symlink(2) gives ENOENT', async () => {
      const fs = new MemoryFS();
      await assert.rejects(fs.symlink('', '/link'), ResourceNotFound);
    });
  });

  describe('storage', () => {
    it('fails a write beyond the capacity with InsufficientStorage and keeps what fit', async () => {
      const fs = new MemoryFS({ capacity: 10_000 });
      const handle = await fs.open('/f', parseOpenFlags('w'));
      await handle.write(0, Buffer.alloc(8_000, 7));
      await assert.rejects(handle.write(8_000, Buffer.alloc(4_000, 7)), InsufficientStorage);
      await assert.rejects(handle.setstat({ size: 20_000 }), InsufficientStorage);
      await handle.close();
      assert.equal((await fs.stat('/f')).size, 8_000);
    });

    it('statvfs reports the capacity and the bytes stored, and frees them on remove', async () => {
      const fs = new MemoryFS({ capacity: 1000 * BLOCK });
      assert.equal((await fs.statvfs('/')).blocks, 1000);
      await fs.writeFile('/f', Buffer.alloc(3 * BLOCK + 1));
      assert.equal(await usedBlocks(fs), 4);
      await fs.setstat('/f', { size: BLOCK });
      assert.equal(await usedBlocks(fs), 1);
      await fs.remove('/f');
      assert.equal(await usedBlocks(fs), 0);
    });

    it('re-extending after a truncate reads zeros, not the old bytes', async () => {
      const fs = new MemoryFS();
      const big = Buffer.alloc(200_000, 0xab);
      await fs.writeFile('/small-cut', big);
      await fs.setstat('/small-cut', { size: 150_000 });
      await fs.setstat('/small-cut', { size: 200_000 });
      const content = await fs.readFile('/small-cut');
      assert.ok(content.subarray(0, 150_000).every((b) => b === 0xab));
      assert.ok(content.subarray(150_000).every((b) => b === 0), 'tail after a small cut is zero');
      await fs.writeFile('/big-cut', big);
      await fs.setstat('/big-cut', { size: 10 });
      await fs.setstat('/big-cut', { size: 200_000 });
      assert.ok((await fs.readFile('/big-cut')).subarray(10).every((b) => b === 0), 'tail after a big cut is zero');
    });

    it('a name longer than 255 bytes is refused with InvalidPath', async () => {
      const fs = new MemoryFS();
      await assert.rejects(fs.writeFile(`/${'n'.repeat(256)}`, 'x'), InvalidPath);
      await assert.rejects(fs.mkdir(`/${'é'.repeat(128)}`), InvalidPath);
    });
  });

  describe('attributes', () => {
    it('new objects belong to the configured uid and gid, with the usual default modes', async () => {
      const fs = new MemoryFS({ uid: 1234, gid: 5678 });
      await fs.writeFile('/f', 'x');
      await fs.mkdir('/d');
      const file = await fs.stat('/f');
      const dir = await fs.stat('/d');
      assert.deepEqual([file.uid, file.gid, file.permissions], [1234, 5678, 0o644]);
      assert.deepEqual([dir.uid, dir.gid, dir.permissions], [1234, 5678, 0o755]);
    });

    it('uid and gid can be changed to anything (ownership is not enforced)', async () => {
      const fs = new MemoryFS({ uid: 1000, gid: 1000 });
      await fs.writeFile('/f', 'x');
      await fs.setstat('/f', { uid: 0, gid: 42 });
      const { uid, gid } = await fs.stat('/f');
      assert.deepEqual([uid, gid], [0, 42]);
    });

    it('a directory counts its subdirectories in nlink', async () => {
      const fs = new MemoryFS();
      await fs.mkdir('/d');
      await fs.mkdir('/d/a');
      await fs.mkdir('/d/b');
      await fs.writeFile('/d/f', 'x');
      assert.equal((await fs.stat('/d')).nlink, 4);
      await fs.rmdir('/d/a');
      await fs.rename('/d/b', '/b');
      assert.equal((await fs.stat('/d')).nlink, 2);
    });

    it('writing updates mtime after it was set into the past', async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/f', 'x');
      await fs.setstat('/f', { mtime: 1000, atime: 1000 });
      const handle = await fs.open('/f', parseOpenFlags('r+'));
      await handle.write(0, Buffer.from('y'));
      await handle.close();
      const { mtime, atime } = await fs.stat('/f');
      assert.ok(mtime > 1_000_000_000, 'mtime moved to now');
      assert.equal(atime, 1000);
    });
  });

  describe('listdir', () => {
    it('iterates a snapshot: entries removed mid-listing are skipped, new ones not shown', async () => {
      const fs = new MemoryFS();
      for (const name of ['a', 'b', 'c']) await fs.writeFile(`/${name}`, name);
      const seen: string[] = [];
      for await (const entry of fs.listdir('/')) {
        seen.push(entry.name);
        if (entry.name === 'a') {
          await fs.remove('/b');
          await fs.writeFile('/z', 'late');
        }
      }
      assert.deepEqual(seen, ['a', 'c']);
    });
  });

  it('realpath reports the canonical path of a missing last component behind a symlink', async () => {
    const fs = new MemoryFS();
    await fs.mkdir('/real');
    await fs.symlink('/real', '/alias');
    assert.equal(await fs.realpath('/alias/new-file'), '/real/new-file');
  });
});
