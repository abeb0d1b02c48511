import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import { AlreadyExists, DirectoryNotEmpty, InvalidArgument, PermissionDenied, ResourceNotFound, Unsupported } from '../../src/fs/errors.js';
import { parseOpenFlags } from '../../src/fs/types.js';
import { MountFS } from '../../src/fs/wrappers/mount.js';
import { ReadOnlyFS } from '../../src/fs/wrappers/readonly.js';
import { SubFS } from '../../src/fs/wrappers/sub.js';
import { ThrottledFS } from '../../src/fs/wrappers/throttled.js';
import { WrapFileHandle } from '../../src/fs/wrappers/WrapFS.js';
import { readIntoFile } from '../../src/fs/readInto.js';

const names = async (fs: { listdirAll(path: string): Promise<{ name: string }[]> }, path: string) =>
  (await fs.listdirAll(path)).map((entry) => entry.name).sort();

describe('SubFS', () => {
  let inner: MemoryFS;
  let fs: SubFS;

  beforeEach(async () => {
    inner = new MemoryFS();
    await inner.mkdir('/srv');
    await inner.mkdir('/srv/home');
    await inner.writeFile('/srv/home/mine', 'inside');
    await inner.writeFile('/srv/secret', 'outside');
    await inner.mkdir('/srv/private');
    fs = new SubFS(inner, '/srv/home');
  });

  it('shows the sub-directory as / and its files at the top', async () => {
    assert.deepEqual(await names(fs, '/'), ['mine']);
    assert.equal((await fs.readFile('/mine')).toString(), 'inside');
    await fs.writeFile('/new', 'made in the view');
    assert.equal((await inner.readFile('/srv/home/new')).toString(), 'made in the view');
    assert.equal(await fs.realpath('/mine'), '/mine');
  });

  it('.. never climbs above the view root: /../secret is /secret of the view, which does not exist', async () => {
    await assert.rejects(fs.readFile('/../secret'), ResourceNotFound);
    await assert.rejects(fs.readFile('/a/../../secret'), ResourceNotFound);
    assert.deepEqual(await names(fs, '/..'), ['mine']);
    assert.equal(await fs.realpath('/../..'), '/');
  });

  it('a relative link leading outside is refused with PermissionDenied, yet can be seen and removed', async () => {
    await fs.symlink('../secret', '/escape');
    await assert.rejects(fs.readFile('/escape'), PermissionDenied);
    await assert.rejects(fs.stat('/escape'), PermissionDenied);
    await assert.rejects(fs.open('/escape', parseOpenFlags('w')), PermissionDenied);
    await assert.rejects(fs.setstat('/escape', { size: 0 }), PermissionDenied);
    assert.equal((await fs.lstat('/escape')).type, 'symlink');
    assert.equal(await fs.readlink('/escape'), '../secret');
    await fs.remove('/escape');
    assert.equal((await inner.readFile('/srv/secret')).toString(), 'outside', 'the outside file is untouched');
  });

  it('a link to a directory outside cannot be listed, written through or used as a parent', async () => {
    await fs.symlink('../private', '/door');
    await assert.rejects(fs.listdirAll('/door'), PermissionDenied);
    await assert.rejects(fs.writeFile('/door/planted', 'x'), PermissionDenied);
    await assert.rejects(fs.mkdir('/door/sub'), PermissionDenied);
    await assert.rejects(fs.lstat('/door/anything'), PermissionDenied);
    assert.deepEqual(await inner.listdirAll('/srv/private'), []);
  });

  it('an absolute link made on the inner FS that points outside is refused too', async () => {
    await inner.symlink('/srv/secret', '/srv/home/planted');
    await assert.rejects(fs.readFile('/planted'), PermissionDenied);
    assert.equal(await fs.readlink('/planted'), '/srv/secret');
  });

  it('absolute link targets are re-rooted: stored under the root, shown without it', async () => {
    await fs.symlink('/mine', '/ln');
    assert.equal(await inner.readlink('/srv/home/ln'), '/srv/home/mine');
    assert.equal(await fs.readlink('/ln'), '/mine');
    assert.equal((await fs.readFile('/ln')).toString(), 'inside');
    assert.equal(await fs.realpath('/ln'), '/mine');
  });

  it('a root reached through a link of the inner FS works', async () => {
    await inner.symlink('/srv/home', '/alias');
    const view = new SubFS(inner, '/alias');
    assert.equal((await view.readFile('/mine')).toString(), 'inside');
    assert.equal(await view.realpath('/mine'), '/mine');
  });

  it('the view root cannot be removed or renamed', async () => {
    await assert.rejects(fs.rmdir('/'), PermissionDenied);
    await assert.rejects(fs.rename('/', '/x'), InvalidArgument);
    await assert.rejects(fs.posixRename('/mine', '/'), InvalidArgument);
  });

  it('optional capabilities are kept exactly when the inner FS has them', () => {
    assert.equal(typeof fs.hash, 'function');
    assert.equal(typeof fs.copy, 'function');
    const overReadOnly = new SubFS(new ReadOnlyFS(inner), '/srv/home');
    assert.equal(overReadOnly.copy, undefined);
    assert.equal(overReadOnly.link, undefined);
    assert.equal(overReadOnly.isReadOnly, true);
  });
});

describe('MountFS', () => {
  let uploads: MemoryFS;
  let reports: MemoryFS;
  let fs: MountFS;

  beforeEach(async () => {
    uploads = new MemoryFS();
    reports = new MemoryFS();
    await uploads.writeFile('/in.csv', 'a,b');
    await reports.writeFile('/q1.pdf', 'pdf');
    fs = new MountFS({ '/uploads': uploads, '/archive/2024/reports': reports });
  });

  it('/ and the parents of deeper mount points list their mount points as directories', async () => {
    const root = await fs.listdirAll('/');
    assert.deepEqual(root.map((entry) => entry.name).sort(), ['archive', 'uploads']);
    assert.ok(root.every((entry) => entry.stats.type === 'directory'));
    assert.deepEqual(await names(fs, '/archive'), ['2024']);
    assert.deepEqual(await names(fs, '/archive/2024'), ['reports']);
    assert.deepEqual(await names(fs, '/archive/2024/reports'), ['q1.pdf']);
  });

  it('virtual directories stat as read-only directories; paths beside them do not exist', async () => {
    for (const path of ['/', '/archive', '/archive/2024']) {
      const stats = await fs.stat(path);
      assert.equal(stats.type, 'directory');
      assert.equal(stats.permissions, 0o555);
    }
    await assert.rejects(fs.stat('/nothing'), ResourceNotFound);
    await assert.rejects(fs.listdirAll('/archive/2023'), ResourceNotFound);
    assert.equal(await fs.realpath('/archive/../uploads/in.csv'), '/uploads/in.csv');
  });

  it('each path reaches the filesystem mounted there', async () => {
    await fs.writeFile('/uploads/new', 'to uploads');
    await fs.writeFile('/archive/2024/reports/q2.pdf', 'to reports');
    assert.equal((await uploads.readFile('/new')).toString(), 'to uploads');
    assert.equal((await reports.readFile('/q2.pdf')).toString(), 'to reports');
    assert.equal((await fs.readFile('/uploads/in.csv')).toString(), 'a,b');
  });

  it('renames across mounts are refused with Unsupported and move nothing; within a mount they work', async () => {
    await assert.rejects(fs.rename('/uploads/in.csv', '/archive/2024/reports/in.csv'), (err: Error) => {
      assert.ok(err instanceof Unsupported);
      assert.match(err.message, /across mount points/);
      return true;
    });
    await assert.rejects(fs.posixRename('/uploads/in.csv', '/archive/2024/reports/in.csv'), Unsupported);
    assert.equal(await uploads.exists('/in.csv'), true);
    assert.equal(await reports.exists('/in.csv'), false);
    await fs.rename('/uploads/in.csv', '/uploads/renamed.csv');
    assert.equal((await uploads.readFile('/renamed.csv')).toString(), 'a,b');
  });

  it('virtual directories hold nothing but mount points, and mount points stay put', async () => {
    await assert.rejects(fs.writeFile('/stray', 'x'), PermissionDenied);
    await assert.rejects(fs.mkdir('/archive/new'), PermissionDenied);
    await assert.rejects(fs.mkdir('/uploads'), AlreadyExists);
    await assert.rejects(fs.rmdir('/uploads'), PermissionDenied);
    await assert.rejects(fs.rmdir('/archive'), DirectoryNotEmpty);
    await assert.rejects(fs.rename('/uploads', '/up'), PermissionDenied);
    await assert.rejects(fs.remove('/archive/2024'), PermissionDenied);
    await assert.rejects(fs.open('/archive', parseOpenFlags('r')), PermissionDenied);
  });

  it('a mount at / holds everything else; deeper mount points shadow its same-named entries', async () => {
    const base = new MemoryFS();
    await base.mkdir('/uploads');
    await base.writeFile('/uploads/hidden', 'under the mount');
    await base.writeFile('/top', 'x');
    const merged = new MountFS({ '/': base, '/uploads': uploads, '/deep/er': new MemoryFS() });
    assert.deepEqual(await names(merged, '/'), ['deep', 'top', 'uploads']);
    assert.deepEqual(await names(merged, '/uploads'), ['in.csv']);
    assert.equal((await merged.stat('/deep')).type, 'directory', 'a virtual parent the base FS lacks');
    assert.deepEqual(await names(merged, '/deep'), ['er']);
    await assert.rejects(merged.rename('/top', '/uploads/top'), Unsupported);
    await assert.rejects(merged.rmdir('/deep'), DirectoryNotEmpty);
  });

  it('optional capabilities: offered when a mount has them, Unsupported where it lacks them or across mounts', async () => {
    const mixed = new MountFS({ '/rw': uploads, '/ro': new ReadOnlyFS(reports) });
    assert.equal(typeof mixed.copy, 'function');
    await mixed.copy!('/rw/in.csv', '/rw/copy.csv', false);
    assert.equal((await uploads.readFile('/copy.csv')).toString(), 'a,b');
    await assert.rejects(mixed.copy!('/ro/q1.pdf', '/ro/q1-copy.pdf', false), Unsupported);
    await assert.rejects(mixed.copy!('/rw/in.csv', '/ro/in.csv', false), /across mount points/);
    assert.equal((await mixed.hash!('/ro/q1.pdf', 'md5', 0, 0)).length, 16);
    await assert.rejects(mixed.statvfs!('/'), Unsupported);
    const onlyReadOnly = new MountFS({ '/ro': new ReadOnlyFS(reports) });
    assert.equal(onlyReadOnly.copy, undefined);
    assert.equal(onlyReadOnly.link, undefined);
    assert.equal(onlyReadOnly.isReadOnly, true);
    assert.equal(mixed.isReadOnly, false);
  });

  it('absolute symlink targets read in the view terms; a link into another mount is refused', async () => {
    await fs.symlink('/uploads/in.csv', '/uploads/ln');
    assert.equal(await uploads.readlink('/ln'), '/in.csv');
    assert.equal(await fs.readlink('/uploads/ln'), '/uploads/in.csv');
    assert.equal((await fs.readFile('/uploads/ln')).toString(), 'a,b');
    assert.equal(await fs.realpath('/uploads/ln'), '/uploads/in.csv');
    await assert.rejects(fs.symlink('/archive/2024/reports/q1.pdf', '/uploads/cross'), Unsupported);
  });

  it('refuses a bad table: relative or repeated mount points', () => {
    assert.throws(() => new MountFS({ uploads: uploads }), InvalidArgument);
    assert.throws(() => new MountFS(new Map([['/a', uploads], ['/a/', reports]])), InvalidArgument);
  });

  it('close closes every mounted filesystem', async () => {
    const closed: string[] = [];
    const tracked = (name: string) => Object.assign(new MemoryFS(), { close: async () => void closed.push(name) });
    await new MountFS({ '/a': tracked('a'), '/b': tracked('b') }).close();
    assert.deepEqual(closed.sort(), ['a', 'b']);
  });
});

describe('readInto through wrappers', () => {
  it('goes through a subclass\'s read override, and straight to the inner handle otherwise', async () => {
    const inner = new MemoryFS();
    await inner.writeFile('/f', 'abcdef');
    class Reversed extends WrapFileHandle {
      override async read(offset: number, length: number): Promise<Buffer> {
        return Buffer.from((await this.inner.read(offset, length)).reverse());
      }
    }
    const opened = await inner.open('/f', parseOpenFlags('r'));
    const target = Buffer.alloc(10);
    const reversed = await readIntoFile(new Reversed(opened), target, 0);
    assert.equal(target.subarray(0, reversed).toString(), 'fedcba');
    const plain = await readIntoFile(new WrapFileHandle(opened), target, 2);
    assert.equal(target.subarray(0, plain).toString(), 'cdef');
    await opened.close();
  });

  it('ThrottledFS charges its read pacer for the bytes read into the target', async () => {
    const inner = new MemoryFS();
    await inner.writeFile('/f', 'x'.repeat(1000));
    const charged: number[] = [];
    const fs = new ThrottledFS(inner, { read: async (bytes) => void charged.push(bytes) });
    const handle = await fs.open('/f', parseOpenFlags('r'));
    assert.equal(await readIntoFile(handle, Buffer.alloc(600), 700), 300);
    assert.equal(await readIntoFile(handle, Buffer.alloc(600), 1000), 0);
    assert.deepEqual(charged, [300], 'the bytes that existed, nothing for EOF');
    await handle.close();
  });
});
