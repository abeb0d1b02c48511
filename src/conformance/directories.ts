import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { AlreadyExists, DirectoryNotEmpty, IsADirectory, NotADirectory, ResourceNotFound } from '../fs/errors.js';
import type { FS } from '../fs/FS.js';
import type { DirEntry } from '../fs/types.js';
import type { Specifier } from './harness.js';

function byName(entries: DirEntry[]): Map<string, DirEntry> {
  return new Map(entries.map((entry) => [entry.name, entry]));
}

async function createFiles(fs: FS, dir: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `entry-${String(i).padStart(5, '0')}`);
  // Batches keep a remote backend busy without opening a thousand requests at once.
  for (let i = 0; i < names.length; i += 50) {
    await Promise.all(names.slice(i, i + 50).map((name) => fs.writeFile(`${dir}/${name}`, name)));
  }
  return names;
}

/** listdir: entries with attributes, no `.`/`..`, errors, size, laziness. */
export function describeListdir(spec: Specifier): void {
  describe('listdir', () => {
    spec.it('an empty directory lists nothing (no . or ..)', async (fs) => {
      await fs.mkdir('/d');
      assert.deepEqual(await fs.listdirAll('/d'), []);
    });

    spec.it('lists each entry once with the attributes stat gives', async (fs) => {
      await fs.mkdir('/d');
      await fs.writeFile('/d/file', 'seven b');
      await fs.mkdir('/d/sub');
      const entries = byName(await fs.listdirAll('/d'));
      assert.deepEqual([...entries.keys()].sort(), ['file', 'sub']);
      assert.equal(entries.get('file')?.stats.type, 'file');
      assert.equal(entries.get('file')?.stats.size, 7);
      assert.equal(entries.get('sub')?.stats.type, 'directory');
      const fileStats = await fs.stat('/d/file');
      assert.equal(entries.get('file')?.stats.permissions, fileStats.permissions);
      assert.equal(entries.get('file')?.stats.mtime, fileStats.mtime);
    });

    spec.it('the root directory can be listed', async (fs) => {
      await fs.writeFile('/top', 'x');
      const names = (await fs.listdirAll('/')).map((entry) => entry.name);
      assert.ok(names.includes('top'));
      assert.ok(!names.includes('.') && !names.includes('..'));
    });

    spec.it('a missing directory fails with ResourceNotFound', async (fs) => {
      await assert.rejects(fs.listdirAll('/missing'), ResourceNotFound);
    });

    spec.it('a file fails with NotADirectory', async (fs) => {
      await fs.writeFile('/f', 'x');
      await assert.rejects(fs.listdirAll('/f'), NotADirectory);
    });

    spec.it('lists 1,100 entries, every name exactly once', async (fs) => {
      await fs.mkdir('/big');
      const names = await createFiles(fs, '/big', 1100);
      const listed = (await fs.listdirAll('/big')).map((entry) => entry.name);
      assert.equal(listed.length, names.length);
      assert.deepEqual(listed.sort(), names);
    });

    spec.it('is lazy: a consumer may take the first few entries and stop', async (fs) => {
      await fs.mkdir('/big');
      await createFiles(fs, '/big', 1100);
      const taken: string[] = [];
      for await (const entry of fs.listdir('/big')) {
        taken.push(entry.name);
        if (taken.length === 3) break;
      }
      assert.equal(taken.length, 3);
      assert.equal(new Set(taken).size, 3);
      // Abandoning a listing must not wedge the directory.
      await fs.remove(`/big/${taken[0]}`);
      assert.equal((await fs.listdirAll('/big')).length, 1099);
    });
  });
}

/** mkdir, rmdir and remove, with the errors POSIX gives on Linux. */
export function describeCreateRemove(spec: Specifier): void {
  describe('mkdir', () => {
    spec.it('creates an empty directory', async (fs) => {
      await fs.mkdir('/d');
      assert.equal((await fs.stat('/d')).type, 'directory');
      assert.deepEqual(await fs.listdirAll('/d'), []);
    });

    spec.it('creates nested directories one level at a time', async (fs) => {
      await fs.mkdir('/a');
      await fs.mkdir('/a/b');
      await fs.writeFile('/a/b/f', 'deep');
      assert.equal((await fs.readFile('/a/b/f')).toString(), 'deep');
    });

    spec.it('an existing directory or file fails with AlreadyExists', async (fs) => {
      await fs.mkdir('/d');
      await fs.writeFile('/f', 'x');
      await assert.rejects(fs.mkdir('/d'), AlreadyExists);
      await assert.rejects(fs.mkdir('/f'), AlreadyExists);
      await assert.rejects(fs.mkdir('/'), AlreadyExists);
    });

    spec.it('a missing parent fails with ResourceNotFound', async (fs) => {
      await assert.rejects(fs.mkdir('/missing/d'), ResourceNotFound);
    });

    spec.it('a parent that is a file fails with NotADirectory', async (fs) => {
      await fs.writeFile('/f', 'x');
      await assert.rejects(fs.mkdir('/f/d'), NotADirectory);
    });
  });

  describe('rmdir', () => {
    spec.it('removes an empty directory', async (fs) => {
      await fs.mkdir('/d');
      await fs.rmdir('/d');
      assert.equal(await fs.exists('/d'), false);
    });

    spec.it('a non-empty directory fails with DirectoryNotEmpty and keeps its content', async (fs) => {
      await fs.mkdir('/d');
      await fs.writeFile('/d/f', 'x');
      await assert.rejects(fs.rmdir('/d'), DirectoryNotEmpty);
      assert.equal((await fs.readFile('/d/f')).toString(), 'x');
    });

    spec.it('a file fails with NotADirectory', async (fs) => {
      await fs.writeFile('/f', 'x');
      await assert.rejects(fs.rmdir('/f'), NotADirectory);
      assert.equal(await fs.exists('/f'), true);
    });

    spec.it('a missing directory fails with ResourceNotFound', async (fs) => {
      await assert.rejects(fs.rmdir('/missing'), ResourceNotFound);
    });
  });

  describe('remove', () => {
    spec.it('removes a file', async (fs) => {
      await fs.writeFile('/f', 'x');
      await fs.remove('/f');
      assert.equal(await fs.exists('/f'), false);
      await assert.rejects(fs.stat('/f'), ResourceNotFound);
    });

    spec.it('a directory fails with IsADirectory (unlink(2) gives EISDIR on Linux)', async (fs) => {
      await fs.mkdir('/d');
      await assert.rejects(fs.remove('/d'), IsADirectory);
      assert.equal((await fs.stat('/d')).type, 'directory');
    });

    spec.it('a missing file fails with ResourceNotFound', async (fs) => {
      await assert.rejects(fs.remove('/missing'), ResourceNotFound);
    });

    spec.it('a removed name can be created again, fresh', async (fs) => {
      await fs.writeFile('/f', 'old content');
      await fs.remove('/f');
      await fs.writeFile('/f', 'new');
      assert.equal((await fs.readFile('/f')).toString(), 'new');
    });
  });
}
