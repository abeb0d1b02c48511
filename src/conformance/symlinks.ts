import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { AlreadyExists, InvalidArgument, InvalidPath, NotADirectory, ResourceNotFound, Unsupported } from '../fs/errors.js';
import { flags, type Specifier } from './harness.js';

/** symlink, readlink, and how links are followed (stat) or not (lstat, remove, rename). */
export function describeSymlinks(spec: Specifier): void {
  describe('symlinks', () => {
    spec.lacks('symlinks', 'symlink fails with Unsupported and creates nothing', async (fs) => {
      await fs.writeFile('/target', 'x');
      await assert.rejects(fs.symlink('/target', '/link'), Unsupported);
      assert.equal(await fs.exists('/link', { followSymlinks: false }), false);
    });

    spec.requires('symlinks', 'readlink returns the target exactly as stored, relative or absolute', async (fs) => {
      await fs.symlink('/some/absolute/target', '/abs');
      await fs.symlink('../relative/target', '/rel');
      assert.equal(await fs.readlink('/abs'), '/some/absolute/target');
      assert.equal(await fs.readlink('/rel'), '../relative/target');
    });

    spec.requires('symlinks', 'lstat reports the link, stat follows it to the target', async (fs) => {
      await fs.writeFile('/target', 'five!');
      await fs.symlink('/target', '/link');
      assert.equal((await fs.lstat('/link')).type, 'symlink');
      const followed = await fs.stat('/link');
      assert.equal(followed.type, 'file');
      assert.equal(followed.size, 5);
    });

    spec.requires('symlinks', 'reads and writes through a link reach the target', async (fs) => {
      await fs.writeFile('/target', 'before');
      await fs.symlink('target', '/link');
      assert.equal((await fs.readFile('/link')).toString(), 'before');
      await fs.writeFile('/link', 'after');
      assert.equal((await fs.readFile('/target')).toString(), 'after');
      assert.equal((await fs.lstat('/link')).type, 'symlink');
    });

    spec.requires('symlinks', 'a relative target resolves against the directory holding the link', async (fs) => {
      await fs.mkdir('/a');
      await fs.mkdir('/b');
      await fs.writeFile('/b/f', 'in b');
      await fs.symlink('../b/f', '/a/link');
      assert.equal((await fs.readFile('/a/link')).toString(), 'in b');
    });

    spec.requires('symlinks', 'a link to a directory is followed in the middle of a path and by listdir', async (fs) => {
      await fs.mkdir('/d');
      await fs.writeFile('/d/f', 'x');
      await fs.symlink('/d', '/ln');
      assert.equal((await fs.readFile('/ln/f')).toString(), 'x');
      assert.deepEqual((await fs.listdirAll('/ln')).map((entry) => entry.name), ['f']);
    });

    spec.requires('symlinks', 'listdir reports a link as a link, not as its target', async (fs) => {
      await fs.mkdir('/d');
      await fs.mkdir('/d/sub');
      await fs.symlink('sub', '/d/ln');
      const entry = (await fs.listdirAll('/d')).find((e) => e.name === 'ln');
      assert.equal(entry?.stats.type, 'symlink');
    });

    spec.requires('symlinks', 'a dangling link: lstat works, stat fails with ResourceNotFound', async (fs) => {
      await fs.symlink('/nowhere', '/dangling');
      assert.equal((await fs.lstat('/dangling')).type, 'symlink');
      await assert.rejects(fs.stat('/dangling'), ResourceNotFound);
      assert.equal(await fs.exists('/dangling'), false);
      assert.equal(await fs.exists('/dangling', { followSymlinks: false }), true);
    });

    spec.requires('symlinks', 'exclusive create on a dangling link fails with AlreadyExists (O_EXCL never follows)', async (fs) => {
      await fs.symlink('/nowhere', '/dangling');
      await assert.rejects(fs.open('/dangling', flags('write', 'create', 'exclusive')), AlreadyExists);
      assert.equal(await fs.exists('/nowhere'), false);
    });

    spec.requires('symlinks', 'symlink over an existing name fails with AlreadyExists', async (fs) => {
      await fs.writeFile('/f', 'x');
      await assert.rejects(fs.symlink('/elsewhere', '/f'), AlreadyExists);
      assert.equal((await fs.lstat('/f')).type, 'file');
    });

    spec.requires('symlinks', 'readlink of a non-link fails with InvalidArgument, of a missing path with ResourceNotFound', async (fs) => {
      await fs.writeFile('/f', 'x');
      await assert.rejects(fs.readlink('/f'), InvalidArgument);
      await assert.rejects(fs.readlink('/missing'), ResourceNotFound);
    });

    spec.requires('symlinks', 'remove deletes the link and leaves the target', async (fs) => {
      await fs.writeFile('/target', 'x');
      await fs.symlink('/target', '/link');
      await fs.remove('/link');
      assert.equal(await fs.exists('/link', { followSymlinks: false }), false);
      assert.equal((await fs.readFile('/target')).toString(), 'x');
    });

    spec.requires('symlinks', 'remove deletes a link to a directory, rmdir refuses it with NotADirectory', async (fs) => {
      await fs.mkdir('/d');
      await fs.symlink('/d', '/ln');
      await assert.rejects(fs.rmdir('/ln'), NotADirectory);
      await fs.remove('/ln');
      assert.equal((await fs.stat('/d')).type, 'directory');
    });

    spec.requires('symlinks', 'rename moves the link itself, its target text unchanged', async (fs) => {
      await fs.symlink('relative/target', '/link');
      await fs.rename('/link', '/moved');
      assert.equal(await fs.readlink('/moved'), 'relative/target');
      assert.equal(await fs.exists('/link', { followSymlinks: false }), false);
    });

    spec.requires('symlinks', 'posixRename onto a link replaces the link, not its target', async (fs) => {
      await fs.writeFile('/target', 'untouched');
      await fs.symlink('/target', '/link');
      await fs.writeFile('/new', 'replacement');
      await fs.posixRename('/new', '/link');
      assert.equal((await fs.lstat('/link')).type, 'file');
      assert.equal((await fs.readFile('/link')).toString(), 'replacement');
      assert.equal((await fs.readFile('/target')).toString(), 'untouched');
    });

    spec.requires('symlinks', 'setstat through a link changes the target (chmod and truncate follow links)', async (fs, features) => {
      await fs.writeFile('/target', '0123456789');
      await fs.symlink('/target', '/link');
      await fs.setstat('/link', { size: 3 });
      assert.equal((await fs.readFile('/target')).toString(), '012');
      if (!features.permissions) return;
      await fs.setstat('/link', { permissions: 0o640 });
      assert.equal((await fs.stat('/target')).permissions, 0o640);
    });

    spec.requires('symlinks', 'a symlink loop fails with InvalidPath (ELOOP)', async (fs) => {
      await fs.symlink('/b', '/a');
      await fs.symlink('/a', '/b');
      await assert.rejects(fs.stat('/a'), InvalidPath);
      await assert.rejects(fs.readFile('/a/x'), InvalidPath);
      assert.equal((await fs.lstat('/a')).type, 'symlink');
    });
  });

  describe('realpath', () => {
    spec.it('of / is /', async (fs) => {
      assert.equal(await fs.realpath('/'), '/');
    });

    spec.it('of existing paths is the path itself, with . and .. resolved', async (fs) => {
      await fs.mkdir('/d');
      await fs.mkdir('/d/e');
      await fs.writeFile('/d/e/f', 'x');
      assert.equal(await fs.realpath('/d/e/f'), '/d/e/f');
      assert.equal(await fs.realpath('/d/./e/..'), '/d');
    });

    spec.it('allows a missing last component (a file about to be created)', async (fs) => {
      await fs.mkdir('/d');
      assert.equal(await fs.realpath('/d/not-yet'), '/d/not-yet');
    });

    spec.it('a missing parent fails with ResourceNotFound', async (fs) => {
      await assert.rejects(fs.realpath('/missing/child'), ResourceNotFound);
    });

    spec.it('a parent that is a file fails with NotADirectory', async (fs) => {
      await fs.writeFile('/f', 'x');
      await assert.rejects(fs.realpath('/f/child'), NotADirectory);
    });

    spec.requires('symlinks', 'resolves symlinks anywhere in the path', async (fs) => {
      await fs.mkdir('/real');
      await fs.mkdir('/real/sub');
      await fs.writeFile('/real/sub/f', 'x');
      await fs.symlink('/real', '/ln');
      await fs.symlink('sub/f', '/real/file-link');
      assert.equal(await fs.realpath('/ln/sub/f'), '/real/sub/f');
      assert.equal(await fs.realpath('/ln/file-link'), '/real/sub/f');
      assert.equal(await fs.realpath('/ln'), '/real');
    });

    spec.requires('symlinks', 'resolves relative targets with .. and chains of links', async (fs) => {
      await fs.mkdir('/a');
      await fs.mkdir('/a/b');
      await fs.mkdir('/a/c');
      await fs.symlink('../c', '/a/b/up');
      await fs.symlink('/a/b/up', '/chain');
      assert.equal(await fs.realpath('/a/b/up'), '/a/c');
      assert.equal(await fs.realpath('/chain'), '/a/c');
    });

    spec.requires('symlinks', 'a symlink loop fails with InvalidPath', async (fs) => {
      await fs.symlink('/loop2', '/loop1');
      await fs.symlink('/loop1', '/loop2');
      await assert.rejects(fs.realpath('/loop1'), InvalidPath);
    });
  });
}
