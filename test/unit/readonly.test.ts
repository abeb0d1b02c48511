import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import { FS } from '../../src/fs/FS.js';
import { ReadOnly } from '../../src/fs/errors.js';
import type { DirEntry, FileHandle, OpenFlags, SetAttributes, Stats } from '../../src/fs/types.js';
import { parseOpenFlags } from '../../src/fs/types.js';
import { ReadOnlyFS } from '../../src/fs/wrappers/readonly.js';

const flags = (overrides: Partial<OpenFlags>): OpenFlags => ({
  read: false, write: false, append: false, create: false, truncate: false, exclusive: false, ...overrides,
});

describe('ReadOnlyFS', () => {
  let inner: MemoryFS;
  let fs: ReadOnlyFS;

  beforeEach(async () => {
    inner = new MemoryFS();
    await inner.mkdir('/docs');
    await inner.writeFile('/docs/readme.txt', 'hello');
    await inner.symlink('readme.txt', '/docs/link');
    fs = new ReadOnlyFS(inner);
  });

  it('says it is read-only', () => {
    assert.equal(fs.isReadOnly, true);
    assert.equal(inner.isReadOnly, false);
  });

  it('reads files, listings, attributes and links of the inner FS', async () => {
    assert.equal((await fs.readFile('/docs/readme.txt')).toString(), 'hello');
    assert.deepEqual((await fs.listdirAll('/docs')).map((entry) => entry.name).sort(), ['link', 'readme.txt']);
    assert.equal((await fs.stat('/docs/link')).type, 'file');
    assert.equal((await fs.lstat('/docs/link')).type, 'symlink');
    assert.equal(await fs.readlink('/docs/link'), 'readme.txt');
    assert.equal(await fs.realpath('/docs/link'), '/docs/readme.txt');
  });

  for (const [name, openFlags] of [
    ['write', flags({ write: true })],
    ['read+write', flags({ read: true, write: true })],
    ['create', flags({ read: true, create: true })],
    ['truncate', flags({ read: true, truncate: true })],
    ['append', flags({ write: true, append: true })],
  ] as const) {
    it(`refuses open for ${name}`, async () => {
      await assert.rejects(fs.open('/docs/readme.txt', openFlags), ReadOnly);
      assert.equal((await inner.readFile('/docs/readme.txt')).toString(), 'hello');
    });
  }

  it('refuses to create a file that does not exist', async () => {
    await assert.rejects(fs.open('/docs/new.txt', parseOpenFlags('w')), ReadOnly);
    assert.equal(await inner.exists('/docs/new.txt'), false);
  });

  it('refuses writes and setstat through a handle opened for reading', async () => {
    const handle = await fs.open('/docs/readme.txt', parseOpenFlags('r'));
    try {
      await assert.rejects(handle.write(0, Buffer.from('x')), ReadOnly);
      await assert.rejects(handle.setstat({ permissions: 0o600 }), ReadOnly);
      assert.equal((await handle.read(0, 100)).toString(), 'hello');
      assert.equal((await handle.stat()).size, 5);
    } finally {
      await handle.close();
    }
  });

  it('refuses every change by path and leaves the inner FS as it was', async () => {
    const before = await inner.stat('/docs/readme.txt');
    const changes: Array<[string, () => Promise<unknown>]> = [
      ['setstat', () => fs.setstat('/docs/readme.txt', { permissions: 0o600, size: 0 })],
      ['mkdir', () => fs.mkdir('/new')],
      ['rmdir', () => fs.rmdir('/docs')],
      ['remove', () => fs.remove('/docs/readme.txt')],
      ['remove of a missing file', () => fs.remove('/missing')],
      ['rename', () => fs.rename('/docs/readme.txt', '/moved')],
      ['posixRename', () => fs.posixRename('/docs/readme.txt', '/moved')],
      ['symlink', () => fs.symlink('/docs', '/link2')],
      ['writeFile', () => fs.writeFile('/docs/readme.txt', 'changed')],
    ];
    for (const [name, change] of changes) await assert.rejects(change(), ReadOnly, name);
    assert.deepEqual(await inner.stat('/docs/readme.txt'), before);
    assert.deepEqual((await inner.listdirAll('/')).map((entry) => entry.name), ['docs']);
    assert.equal((await inner.readFile('/docs/readme.txt')).toString(), 'hello');
  });

  it('keeps hash and statvfs of the inner FS, statvfs marked read-only; never copy or link', async () => {
    assert.equal(typeof inner.copy, 'function');
    assert.equal(typeof inner.link, 'function');
    assert.equal(fs.copy, undefined);
    assert.equal(fs.link, undefined);
    assert.equal(typeof fs.hash, 'function');
    assert.deepEqual(await fs.hash!('/docs/readme.txt', 'sha256', 0, 0), await inner.hash('/docs/readme.txt', 'sha256', 0, 0));
    assert.equal(typeof fs.statvfs, 'function');
    const vfs = await fs.statvfs!('/');
    assert.equal(vfs.readOnly, true);
    assert.equal(vfs.blocks, (await inner.statvfs('/')).blocks);
  });

  it('has no statvfs, hash or accountNames when the inner FS has none', () => {
    const bare = new ReadOnlyFS(new MinimalFS());
    assert.equal(bare.statvfs, undefined);
    assert.equal(bare.hash, undefined);
    assert.equal(bare.accountNames, undefined);
  });

  it('passes accountNames through when the inner FS has them', async () => {
    const names = { users: new Map([[1000, 'alice']]), groups: new Map([[1000, 'staff']]) };
    class NamedFS extends MinimalFS {
      override async accountNames() {
        return names;
      }
    }
    assert.equal(await new ReadOnlyFS(new NamedFS()).accountNames!(), names);
  });
});

/** An FS with only the abstract methods: no optional capabilities. */
class MinimalFS extends FS {
  open(): Promise<FileHandle> { throw new Error('unused'); }
  async *listdir(): AsyncIterable<DirEntry> {}
  stat(): Promise<Stats> { throw new Error('unused'); }
  async setstat(_path: string, _attrs: SetAttributes): Promise<void> {}
  async mkdir(): Promise<void> {}
  async rmdir(): Promise<void> {}
  async remove(): Promise<void> {}
  async posixRename(): Promise<void> {}
}
