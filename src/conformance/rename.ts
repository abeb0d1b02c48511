import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { AlreadyExists, DirectoryNotEmpty, FSError, IsADirectory, NotADirectory, ResourceNotFound } from '../fs/errors.js';
import type { Specifier } from './harness.js';

/** rename (SFTP v3: never replaces) and posixRename (rename(2): replaces). */
export function describeRename(spec: Specifier): void {
  describe('rename', () => {
    spec.it('moves a file: content at the new name, the old name gone', async (fs) => {
      await fs.writeFile('/a', 'content');
      await fs.rename('/a', '/b');
      assert.equal(await fs.exists('/a'), false);
      assert.equal((await fs.readFile('/b')).toString(), 'content');
    });

    spec.it('moves a file between directories', async (fs) => {
      await fs.mkdir('/src');
      await fs.mkdir('/dst');
      await fs.writeFile('/src/f', 'x');
      await fs.rename('/src/f', '/dst/g');
      assert.deepEqual(await fs.listdirAll('/src'), []);
      assert.equal((await fs.readFile('/dst/g')).toString(), 'x');
    });

    spec.it('an existing target fails with AlreadyExists and both stay as they were', async (fs) => {
      await fs.writeFile('/a', 'A');
      await fs.writeFile('/b', 'B');
      await assert.rejects(fs.rename('/a', '/b'), AlreadyExists);
      assert.equal((await fs.readFile('/a')).toString(), 'A');
      assert.equal((await fs.readFile('/b')).toString(), 'B');
      await fs.mkdir('/d');
      await assert.rejects(fs.rename('/a', '/d'), AlreadyExists);
    });

    spec.it('a missing source fails with ResourceNotFound', async (fs) => {
      await assert.rejects(fs.rename('/missing', '/b'), ResourceNotFound);
      assert.equal(await fs.exists('/b'), false);
    });

    spec.it('a missing target directory fails with ResourceNotFound', async (fs) => {
      await fs.writeFile('/a', 'x');
      await assert.rejects(fs.rename('/a', '/missing/b'), ResourceNotFound);
      assert.equal(await fs.exists('/a'), true);
    });

    spec.it('moves a directory with its contents', async (fs) => {
      await fs.mkdir('/d');
      await fs.mkdir('/d/sub');
      await fs.writeFile('/d/sub/f', 'nested');
      await fs.writeFile('/d/g', 'top');
      await fs.rename('/d', '/e');
      assert.equal(await fs.exists('/d'), false);
      assert.equal((await fs.readFile('/e/sub/f')).toString(), 'nested');
      assert.equal((await fs.readFile('/e/g')).toString(), 'top');
      assert.deepEqual((await fs.listdirAll('/e')).map((entry) => entry.name).sort(), ['g', 'sub']);
    });

    spec.it('a directory cannot move inside itself', async (fs) => {
      // Linux gives EINVAL; any FSError is acceptable as long as nothing moves.
      await fs.mkdir('/d');
      await fs.mkdir('/d/sub');
      await assert.rejects(fs.rename('/d', '/d/sub/d'), FSError);
      assert.equal((await fs.stat('/d/sub')).type, 'directory');
    });
  });

  describe('posixRename', () => {
    spec.it('replaces an existing file atomically', async (fs) => {
      await fs.writeFile('/a', 'new');
      await fs.writeFile('/b', 'old and longer');
      await fs.posixRename('/a', '/b');
      assert.equal(await fs.exists('/a'), false);
      assert.equal((await fs.readFile('/b')).toString(), 'new');
    });

    spec.it('moves to a free name like rename', async (fs) => {
      await fs.writeFile('/a', 'x');
      await fs.posixRename('/a', '/b');
      assert.equal((await fs.readFile('/b')).toString(), 'x');
    });

    spec.it('a missing source fails with ResourceNotFound', async (fs) => {
      await assert.rejects(fs.posixRename('/missing', '/b'), ResourceNotFound);
    });

    spec.it('a directory replaces an empty directory', async (fs) => {
      await fs.mkdir('/a');
      await fs.writeFile('/a/f', 'x');
      await fs.mkdir('/b');
      await fs.posixRename('/a', '/b');
      assert.equal((await fs.readFile('/b/f')).toString(), 'x');
      assert.equal(await fs.exists('/a'), false);
    });

    spec.it('a directory over a non-empty directory fails with DirectoryNotEmpty', async (fs) => {
      await fs.mkdir('/a');
      await fs.mkdir('/b');
      await fs.writeFile('/b/keep', 'x');
      await assert.rejects(fs.posixRename('/a', '/b'), DirectoryNotEmpty);
      assert.equal(await fs.exists('/b/keep'), true);
    });

    spec.it('a file over a directory fails with IsADirectory', async (fs) => {
      await fs.writeFile('/f', 'x');
      await fs.mkdir('/d');
      await assert.rejects(fs.posixRename('/f', '/d'), IsADirectory);
    });

    spec.it('a directory over a file fails with NotADirectory', async (fs) => {
      await fs.mkdir('/d');
      await fs.writeFile('/f', 'x');
      await assert.rejects(fs.posixRename('/d', '/f'), NotADirectory);
    });
  });
}
