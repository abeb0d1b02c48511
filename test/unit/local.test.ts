import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalFS } from '../../src/backends/local.js';
import {
  AlreadyExists,
  DirectoryNotEmpty,
  IsADirectory,
  NotADirectory,
  PermissionDenied,
  ResourceNotFound,
  parseOpenFlags,
} from '../../src/fs/index.js';

/*
 * Layout of every test's sandbox (a fresh temp dir):
 *   sandbox/outside/secret.txt      — must never be reachable
 *   sandbox/root/                   — the LocalFS root
 *   sandbox/root/dir/file.txt
 *   sandbox/root/to-etc   -> /etc
 *   sandbox/root/to-outside -> ../outside
 *   sandbox/root/to-dir   -> dir           (relative, inside)
 *   sandbox/root/dangling-out -> ../outside/new.txt
 */
async function makeSandbox(): Promise<{ sandbox: string; root: string; fs: LocalFS }> {
  const sandbox = await realpath(await mkdtemp(join(tmpdir(), 'sftp-expose-local-')));
  const root = join(sandbox, 'root');
  await mkdir(join(sandbox, 'outside'));
  await writeFile(join(sandbox, 'outside', 'secret.txt'), 'secret');
  await mkdir(join(root, 'dir'), { recursive: true });
  await writeFile(join(root, 'dir', 'file.txt'), 'inside');
  await symlink('/etc', join(root, 'to-etc'));
  await symlink('../outside', join(root, 'to-outside'));
  await symlink('dir', join(root, 'to-dir'));
  await symlink('../outside/new.txt', join(root, 'dangling-out'));
  return { sandbox, root, fs: new LocalFS({ root }) };
}

const escapes = ['/to-etc', '/to-outside'];

describe('LocalFS jail', () => {
  let sandbox: string;
  let root: string;
  let fs: LocalFS;
  before(async () => ({ sandbox, root, fs } = await makeSandbox()));
  after(() => rm(sandbox, { recursive: true, force: true }));

  it('maps `..` to the root instead of climbing above it', async () => {
    assert.deepEqual((await fs.stat('/../../dir/file.txt')).size, 6);
    const names = (await fs.listdirAll('/..')).map((e) => e.name).sort();
    assert.deepEqual(names, ['dangling-out', 'dir', 'to-dir', 'to-etc', 'to-outside']);
  });

  for (const link of escapes) {
    it(`refuses stat, open and listdir through ${link}`, async () => {
      await assert.rejects(fs.stat(link), PermissionDenied);
      await assert.rejects(fs.stat(`${link}/x`), PermissionDenied);
      await assert.rejects(fs.listdirAll(link), PermissionDenied);
      const target = link === '/to-etc' ? `${link}/hostname` : `${link}/secret.txt`;
      await assert.rejects(fs.open(target, parseOpenFlags('r')), PermissionDenied);
      await assert.rejects(fs.readFile(target), PermissionDenied);
    });

    it(`refuses to create or rename anything through ${link}`, async () => {
      await assert.rejects(fs.mkdir(`${link}/made-by-test`), PermissionDenied);
      await assert.rejects(fs.writeFile(`${link}/made-by-test`, 'x'), PermissionDenied);
      await assert.rejects(fs.rename('/dir/file.txt', `${link}/moved.txt`), PermissionDenied);
      await assert.rejects(fs.posixRename('/dir/file.txt', `${link}/moved.txt`), PermissionDenied);
      await assert.rejects(fs.setstat(link, { permissions: 0o777 }), PermissionDenied);
      assert.equal((await stat(join(root, 'dir', 'file.txt'))).size, 6, 'the source stayed in place');
    });

    it(`still shows ${link} itself: lstat and readlink do not follow it`, async () => {
      assert.equal((await fs.lstat(link)).type, 'symlink');
      assert.equal(await fs.readlink(link), link === '/to-etc' ? '/etc' : '../outside');
    });
  }

  it('refuses opening for creation through a dangling link that leads outside', async () => {
    await assert.rejects(fs.writeFile('/dangling-out', 'escaped'), PermissionDenied);
    await assert.rejects(stat(join(sandbox, 'outside', 'new.txt')), { code: 'ENOENT' });
  });

  it('follows a chain of links in the last component to its end: refused when the end is outside, used when inside', async () => {
    const { sandbox: other, root: ownRoot, fs: own } = await makeSandbox();
    try {
      // Each hop is inside the root; only the last one leads out.
      await symlink('to-etc', join(ownRoot, 'hop-etc'));
      await symlink('dangling-out', join(ownRoot, 'hop-dangling'));
      await symlink('to-dir', join(ownRoot, 'hop-dir'));
      await symlink('dir/file.txt', join(ownRoot, 'hop-file'));
      await assert.rejects(own.stat('/hop-etc'), PermissionDenied);
      await assert.rejects(own.readFile('/hop-etc/hostname'), PermissionDenied);
      await assert.rejects(own.writeFile('/hop-dangling', 'escaped'), PermissionDenied);
      await assert.rejects(own.open('/hop-dangling', parseOpenFlags('a')), PermissionDenied);
      await assert.rejects(stat(join(other, 'outside', 'new.txt')), { code: 'ENOENT' });
      assert.equal((await own.readFile('/hop-dir/file.txt')).toString(), 'inside');
      assert.equal((await own.readFile('/hop-file')).toString(), 'inside');
      assert.equal((await own.stat('/hop-file')).type, 'file');
      // O_CREAT|O_EXCL never follows the last component: it fails on the link itself and writes nowhere.
      await assert.rejects(own.open('/hop-dangling', parseOpenFlags('wx')));
      await assert.rejects(stat(join(other, 'outside', 'new.txt')), { code: 'ENOENT' });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('refuses realpath of a link that leads outside and copy/hash through it', async () => {
    await assert.rejects(fs.realpath('/to-outside/secret.txt'), PermissionDenied);
    await assert.rejects(fs.hash!('/to-outside/secret.txt', 'sha256', 0, 0), PermissionDenied);
    await assert.rejects(fs.copy!('/to-outside/secret.txt', '/stolen.txt', false), PermissionDenied);
    await assert.rejects(fs.copy!('/dir/file.txt', '/to-outside/planted.txt', false), PermissionDenied);
    await assert.rejects(fs.link!('/dir/file.txt', '/to-outside/hard.txt'), PermissionDenied);
  });

  it('removes an escaping link itself without touching its target', async () => {
    const { sandbox: other, fs: own } = await makeSandbox();
    try {
      await own.remove('/to-outside');
      assert.equal(await readFile(join(other, 'outside', 'secret.txt'), 'utf8'), 'secret');
      await assert.rejects(own.lstat('/to-outside'), ResourceNotFound);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('follows a relative symlink that stays inside the root', async () => {
    assert.equal((await fs.stat('/to-dir')).type, 'directory');
    assert.equal((await fs.readFile('/to-dir/file.txt')).toString(), 'inside');
    assert.deepEqual((await fs.listdirAll('/to-dir')).map((e) => e.name), ['file.txt']);
    assert.equal(await fs.realpath('/to-dir/file.txt'), '/dir/file.txt');
    assert.equal(await fs.realpath('/to-dir/not-yet'), '/dir/not-yet');
  });

  it('reads an absolute target a client gives as an FS path: stored under the root, readlink shows it as given', async () => {
    const { sandbox: other, root: ownRoot, fs: own } = await makeSandbox();
    try {
      await own.symlink('/dir/file.txt', '/abs');
      await own.symlink('/etc', '/abs-etc');
      assert.equal(await own.readlink('/abs'), '/dir/file.txt');
      assert.equal(await own.readlink('/abs-etc'), '/etc');
      assert.equal((await own.readFile('/abs')).toString(), 'inside');
      // On disk the target carries the root, so the OS follows it inside: /etc is the root's, not the host's.
      assert.equal(await readlink(join(ownRoot, 'abs')), join(ownRoot, 'dir/file.txt'));
      await assert.rejects(own.stat('/abs-etc'), ResourceNotFound);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('shows a host-absolute target outside the root verbatim, and refuses following it', async () => {
    assert.equal(await fs.readlink('/to-etc'), '/etc');
    await assert.rejects(fs.stat('/to-etc'), PermissionDenied);
  });

  it('works with a root given through a symlink, and still jails it', async () => {
    await symlink('root', join(sandbox, 'root-link'));
    const viaLink = new LocalFS({ root: join(sandbox, 'root-link') });
    assert.equal(viaLink.root, root);
    assert.equal((await viaLink.readFile('/dir/file.txt')).toString(), 'inside');
    assert.equal(await viaLink.realpath('/to-dir'), '/dir');
    await assert.rejects(viaLink.stat('/to-outside'), PermissionDenied);
  });

  it('reports realpath relative to the root, the missing last component allowed, a missing parent not', async () => {
    assert.equal(await fs.realpath('/'), '/');
    assert.equal(await fs.realpath('/dir/../dir/file.txt'), '/dir/file.txt');
    assert.equal(await fs.realpath('/dir/new'), '/dir/new');
    await assert.rejects(fs.realpath('/missing/new'), ResourceNotFound);
  });
});

describe('LocalFS with root /', () => {
  it('exposes the whole filesystem, symlinks included', async () => {
    const { sandbox, fs: jailed } = await makeSandbox();
    try {
      const fs = new LocalFS({ root: '/' });
      assert.equal((await fs.readFile(`${sandbox}/root/to-outside/secret.txt`)).toString(), 'secret');
      assert.equal((await fs.stat('/etc')).type, 'directory');
      assert.equal(await fs.realpath(`${sandbox}/root/to-outside`), `${sandbox}/outside`);
      assert.ok(jailed.root.endsWith('/root'));
    } finally {
      await rm(sandbox, { recursive: true, force: true });
    }
  });
});

describe('LocalFS attributes and errors', () => {
  let sandbox: string;
  let root: string;
  let fs: LocalFS;
  before(async () => ({ sandbox, root, fs } = await makeSandbox()));
  after(() => rm(sandbox, { recursive: true, force: true }));

  it('round-trips permission bits to the disk', async () => {
    await fs.writeFile('/perm.txt', 'x');
    await fs.setstat('/perm.txt', { permissions: 0o4751 });
    assert.equal((await stat(join(root, 'perm.txt'))).mode & 0o7777, 0o4751);
    assert.equal((await fs.stat('/perm.txt')).permissions, 0o4751);
    await fs.mkdir('/pdir', { permissions: 0o700 });
    assert.equal((await fs.stat('/pdir')).permissions, 0o700);
    assert.equal((await fs.stat('/pdir')).type, 'directory');
  });

  it('round-trips atime and mtime in seconds, through a path and through a handle', async () => {
    await fs.writeFile('/times.txt', 'x');
    await fs.setstat('/times.txt', { atime: 1_000_000_000, mtime: 1_234_567_890.5 });
    const stats = await fs.stat('/times.txt');
    assert.equal(stats.atime, 1_000_000_000);
    assert.equal(stats.mtime, 1_234_567_890.5);
    assert.equal((await stat(join(root, 'times.txt'))).mtimeMs, 1_234_567_890_500);
    const handle = await fs.open('/times.txt', parseOpenFlags('r+'));
    try {
      await handle.setstat({ mtime: 42 });
      const after = await handle.stat();
      assert.equal(after.mtime, 42);
      assert.equal(after.atime, 1_000_000_000, 'the time not given is kept');
    } finally {
      await handle.close();
    }
  });

  it('truncates and extends through setstat size', async () => {
    await fs.writeFile('/size.txt', 'hello world');
    await fs.setstat('/size.txt', { size: 5 });
    assert.equal(await readFile(join(root, 'size.txt'), 'utf8'), 'hello');
    await fs.setstat('/size.txt', { size: 8 });
    assert.deepEqual(await readFile(join(root, 'size.txt')), Buffer.from('hello\0\0\0'));
  });

  it('maps real errno errors to FSError classes', async () => {
    await assert.rejects(fs.stat('/nope'), ResourceNotFound);
    await assert.rejects(fs.open('/dir', parseOpenFlags('r')), IsADirectory);
    await assert.rejects(fs.remove('/dir'), IsADirectory);
    await assert.rejects(fs.rmdir('/dir'), DirectoryNotEmpty);
    await assert.rejects(fs.rmdir('/dir/file.txt'), NotADirectory);
    await assert.rejects(fs.stat('/dir/file.txt/below'), NotADirectory);
    await assert.rejects(fs.mkdir('/dir'), AlreadyExists);
    await assert.rejects(fs.open('/dir/file.txt', parseOpenFlags('wx')), AlreadyExists);
    await assert.rejects(fs.rename('/to-dir', '/dir'), AlreadyExists);
    await assert.rejects(fs.listdirAll('/dir/file.txt'), NotADirectory);
  });

  it('names the FS path, not the host path, in errors', async () => {
    const err = await fs.stat('/nope/deeper').catch((e: unknown) => e);
    assert.ok(err instanceof ResourceNotFound);
    assert.equal(err.path, '/nope/deeper');
    assert.ok(!err.message.includes(root));
  });

  it('refuses with PermissionDenied what the OS refuses (EPERM from chown to another user without root)', async (t) => {
    if (process.getuid?.() === 0) return t.skip('running as root: chown to any uid succeeds, so EPERM cannot be provoked this way');
    await fs.writeFile('/owned.txt', 'x');
    await assert.rejects(fs.setstat('/owned.txt', { uid: 0 }), PermissionDenied);
  });

  it('refuses with PermissionDenied what the kernel refuses even to root (chmod in /proc is EPERM)', async () => {
    const procRoot = new LocalFS({ root: '/proc/self' });
    await assert.rejects(procRoot.setstat('/status', { permissions: 0o777 }), PermissionDenied);
    await assert.rejects(procRoot.remove('/status'), PermissionDenied);
  });

  it('removes a hard-link-renamed file from the source (rename is link then unlink)', async () => {
    await fs.writeFile('/a.txt', 'A');
    await fs.rename('/a.txt', '/b.txt');
    await assert.rejects(fs.lstat('/a.txt'), ResourceNotFound);
    assert.equal((await fs.readFile('/b.txt')).toString(), 'A');
    assert.equal((await fs.stat('/b.txt')).nlink, 1);
    await fs.writeFile('/c.txt', 'C');
    await assert.rejects(fs.rename('/c.txt', '/b.txt'), AlreadyExists);
    assert.equal((await fs.readFile('/b.txt')).toString(), 'A', 'the target was not replaced');
  });

  it('refuses a root that does not exist', () => {
    assert.throws(() => new LocalFS({ root: join(sandbox, 'no-such-dir') }), ResourceNotFound);
  });
});
