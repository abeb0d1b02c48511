import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import { PermissionDenied } from '../../src/fs/errors.js';
import { parseOpenFlags } from '../../src/fs/types.js';
import { PermissionsFS } from '../../src/fs/wrappers/permissions.js';

async function setup() {
  const inner = new MemoryFS();
  await inner.mkdir('/incoming');
  await inner.mkdir('/incoming/private');
  await inner.mkdir('/public');
  await inner.writeFile('/public/readme.txt', 'hello');
  await inner.writeFile('/incoming/old.txt', 'old');
  const fs = new PermissionsFS(inner, {
    '/': ['list', 'download'],
    '/incoming': ['list', 'upload', 'mkdir', 'rename'],
    '/incoming/private': [],
    '/scratch': ['*'],
  });
  return { inner, fs };
}

const denied = (permission: string) => (error: unknown) => error instanceof PermissionDenied && error.message.includes(`"${permission}"`);

describe('PermissionsFS', () => {
  it('the longest matching rule decides', async () => {
    const { fs } = await setup();
    assert.deepEqual([...fs.permissionsAt('/public/readme.txt')], ['list', 'download']);
    assert.deepEqual([...fs.permissionsAt('/incoming/a/b')], ['list', 'upload', 'mkdir', 'rename']);
    assert.deepEqual([...fs.permissionsAt('/incoming/private/x')], []);
    assert.deepEqual([...fs.permissionsAt('/incomingX')], ['list', 'download'], 'a rule covers its path and below, not siblings sharing a prefix');
    assert.equal(fs.permissionsAt('/scratch/deep').size, 9);
  });

  it('paths no rule covers get every permission', async () => {
    const fs = new PermissionsFS(new MemoryFS(), { '/locked': [] });
    assert.equal(fs.permissionsAt('/anything').size, 9);
    await fs.mkdir('/anything');
    await assert.rejects(fs.mkdir('/locked'), denied('mkdir'));
  });

  it('list and download', async () => {
    const { fs } = await setup();
    assert.equal((await fs.listdirAll('/public')).length, 1);
    assert.equal((await fs.readFile('/public/readme.txt')).toString(), 'hello');
    assert.throws(() => fs.listdir('/incoming/private'), denied('list'));
    await assert.rejects(fs.readFile('/incoming/old.txt'), denied('download'));
    // stat stays allowed so clients can find their way.
    assert.equal((await fs.stat('/incoming/private')).type, 'directory');
  });

  it('upload creates new files; overwrite is needed for existing ones', async () => {
    const { fs, inner } = await setup();
    await fs.writeFile('/incoming/new.txt', 'new');
    assert.equal((await inner.readFile('/incoming/new.txt')).toString(), 'new');
    await assert.rejects(fs.writeFile('/incoming/old.txt', 'replaced'), denied('overwrite'));
    await assert.rejects(fs.open('/incoming/old.txt', parseOpenFlags('a')), denied('overwrite'));
    assert.equal((await inner.readFile('/incoming/old.txt')).toString(), 'old');
    await assert.rejects(fs.writeFile('/public/new.txt', 'x'), denied('upload'));
    await assert.rejects(fs.writeFile('/top.txt', 'x'), denied('upload'));
  });

  it('setstat, and a size change through a handle, need their permissions', async () => {
    const { fs } = await setup();
    await assert.rejects(fs.setstat('/public/readme.txt', { permissions: 0o600 }), denied('setstat'));
    await assert.rejects(fs.setstat('/public/readme.txt', { size: 0 }), denied('overwrite'));
    const handle = await fs.open('/incoming/fresh.txt', parseOpenFlags('w'));
    await handle.write(0, Buffer.from('data'));
    await assert.rejects(handle.setstat({ mtime: 1 }), denied('setstat'));
    await assert.rejects(handle.setstat({ size: 1 }), denied('overwrite'));
    await handle.close();
  });

  it('delete, rename (both ends, overwrite onto an existing target), mkdir, symlink', async () => {
    const { fs, inner } = await setup();
    await assert.rejects(fs.remove('/incoming/old.txt'), denied('delete'));
    await assert.rejects(fs.rmdir('/incoming/private'), denied('delete'));
    await fs.rename('/incoming/old.txt', '/incoming/moved.txt');
    assert.equal(await inner.exists('/incoming/moved.txt'), true);
    await assert.rejects(fs.rename('/incoming/moved.txt', '/public/moved.txt'), denied('rename'));
    await inner.writeFile('/incoming/target.txt', 't');
    await assert.rejects(fs.posixRename('/incoming/moved.txt', '/incoming/target.txt'), denied('overwrite'));
    await fs.posixRename('/incoming/moved.txt', '/incoming/fresh-target.txt');
    await fs.mkdir('/incoming/sub');
    await assert.rejects(fs.mkdir('/public/sub'), denied('mkdir'));
    await assert.rejects(fs.symlink('/public/readme.txt', '/incoming/link'), denied('symlink'));
    await fs.mkdir('/scratch');
    await fs.symlink('/public/readme.txt', '/scratch/link');
    await fs.remove('/scratch/link');
  });
});
