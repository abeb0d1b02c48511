import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { memfs } from 'memfs';
import { NodeFS, type NodeFSLike, type NodePromisesLike } from '../../src/backends/nodefs.js';
import { AlreadyExists, IsADirectory, PermissionDenied, ResourceNotFound, parseOpenFlags } from '../../src/fs/index.js';

/** A memfs whose `promises` lacks the named functions, as a minimal fs-like would. */
function memfsWithout(...missing: (keyof NodePromisesLike)[]): NodeFSLike {
  const { fs } = memfs();
  const promises: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fs.promises)) {
    if (!missing.includes(name as keyof NodePromisesLike)) promises[name] = typeof value === 'function' ? value.bind(fs.promises) : value;
  }
  return { promises: promises as unknown as NodePromisesLike, constants: fs.constants };
}

describe('NodeFS capabilities', () => {
  it('offers statvfs, copy, link, hash and handle fsync when the fs-like has them', async () => {
    const fs = new NodeFS(memfs().fs);
    assert.equal(typeof fs.statvfs, 'function');
    assert.equal(typeof fs.copy, 'function');
    assert.equal(typeof fs.link, 'function');
    assert.equal(typeof fs.hash, 'function');
    await fs.writeFile('/f', 'x');
    const handle = await fs.open('/f', parseOpenFlags('r+'));
    assert.equal(typeof handle.fsync, 'function');
    await handle.fsync!();
    await handle.close();
    assert.ok((await fs.statvfs!('/')).blockSize > 0);
  });

  it('leaves out the capabilities whose functions are missing', () => {
    const fs = new NodeFS(memfsWithout('statfs', 'copyFile', 'link'));
    assert.equal('statvfs' in fs, false);
    assert.equal('copy' in fs, false);
    assert.equal('link' in fs, false);
  });

  it('lists through readdir when opendir is missing', async () => {
    const fs = new NodeFS(memfsWithout('opendir'));
    await fs.mkdir('/d');
    for (const name of ['a', 'b', 'c']) await fs.writeFile(`/d/${name}`, name);
    assert.deepEqual((await fs.listdirAll('/d')).map((e) => e.name).sort(), ['a', 'b', 'c']);
  });

  it('renames a file without hard links (check, then rename)', async () => {
    const fs = new NodeFS(memfsWithout('link'));
    await fs.writeFile('/a', 'A');
    await fs.writeFile('/b', 'B');
    await assert.rejects(fs.rename('/a', '/b'), AlreadyExists);
    await fs.rename('/a', '/c');
    assert.equal((await fs.readFile('/c')).toString(), 'A');
  });
});

describe('NodeFS listing', () => {
  it('lists 10,000 entries, each exactly once with its own stats', async () => {
    const { fs: mem } = memfs();
    mem.mkdirSync('/big');
    // 10,000 is not a multiple of the batch size, so the last partial batch is covered too.
    for (let i = 0; i < 10_000; i++) mem.writeFileSync(`/big/f${i}`, 'x'.repeat(i % 7));
    const entries = await new NodeFS(mem).listdirAll('/big');
    assert.equal(entries.length, 10_000);
    assert.equal(new Set(entries.map((e) => e.name)).size, 10_000);
    for (const { name, stats } of entries) assert.equal(stats.size, Number(name.slice(1)) % 7, name);
  });

  it('stops reading when the consumer stops, and the directory can be listed again', async () => {
    const { fs: mem } = memfs();
    mem.mkdirSync('/d');
    for (let i = 0; i < 100; i++) mem.writeFileSync(`/d/f${i}`, '');
    const fs = new NodeFS(mem);
    let seen = 0;
    for await (const _entry of fs.listdir('/d')) if (++seen === 5) break;
    assert.equal(seen, 5);
    assert.equal((await fs.listdirAll('/d')).length, 100);
  });

  it('skips an entry removed between reading the names and its lstat', async () => {
    const { fs: mem } = memfs();
    mem.mkdirSync('/d');
    // More entries than one batch, so the last name is still to be stat'ed when the first entry comes.
    for (let i = 0; i < 1000; i++) mem.writeFileSync(`/d/f${i}`, '');
    const fs = new NodeFS(mem);
    const names: string[] = [];
    for await (const entry of fs.listdir('/d')) {
      // After the first batch is yielded, remove a name from the batch still to come.
      if (names.length === 0) mem.unlinkSync('/d/f999');
      names.push(entry.name);
    }
    assert.equal(names.includes('f999'), false);
    assert.equal(names.length, 999);
  });

  it('fails with NotADirectory on a file and ResourceNotFound on a missing path', async () => {
    const fs = new NodeFS(memfs({ '/f': 'x' }).fs);
    await assert.rejects(fs.listdirAll('/missing'), ResourceNotFound);
    await assert.rejects(fs.listdirAll('/f'), (err) => err instanceof Error && err.name === 'NotADirectory');
  });
});

describe('NodeFS hash and copy', () => {
  const content = Buffer.from(Array.from({ length: 700_000 }, (_, i) => i % 251));
  const digest = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest();

  it('hashes a whole file and a range, across read chunks', async () => {
    const fs = new NodeFS(memfs().fs);
    await fs.writeFile('/f', content);
    assert.deepEqual(await fs.hash!('/f', 'sha256', 0, 0), digest('sha256', content));
    assert.deepEqual(await fs.hash!('/f', 'md5', 1000, 300_000), digest('md5', content.subarray(1000, 301_000)));
    assert.deepEqual(await fs.hash!('/f', 'sha1', 600_000, 1_000_000), digest('sha1', content.subarray(600_000)));
    await assert.rejects(fs.hash!('/missing', 'sha1', 0, 0), ResourceNotFound);
  });

  it('copies, refusing to replace unless told to, and refuses a directory source', async () => {
    const fs = new NodeFS(memfs().fs);
    await fs.writeFile('/a', content);
    await fs.writeFile('/b', 'old');
    await assert.rejects(fs.copy!('/a', '/b', false), AlreadyExists);
    assert.equal((await fs.readFile('/b')).toString(), 'old');
    await fs.copy!('/a', '/b', true);
    assert.deepEqual(await fs.readFile('/b'), content);
    await fs.mkdir('/d');
    await assert.rejects(fs.copy!('/d', '/e', false), IsADirectory);
    assert.equal(await fs.exists('/e'), false);
  });
});

describe('NodeFS handles', () => {
  it('refuses reads on a write-only handle and writes on a read-only one, even where the fs-like would not', async () => {
    const fs = new NodeFS(memfs({ '/f': 'stable' }).fs);
    const writer = await fs.open('/f', parseOpenFlags('a'));
    await assert.rejects(writer.read(0, 10), PermissionDenied);
    await writer.close();
    const reader = await fs.open('/f', parseOpenFlags('r'));
    await assert.rejects(reader.write(0, Buffer.from('XX')), PermissionDenied);
    await reader.close();
    assert.equal((await fs.readFile('/f')).toString(), 'stable');
  });

  it('appends whatever offset an append-mode write names', async () => {
    const fs = new NodeFS(memfs({ '/f': 'abc' }).fs);
    const handle = await fs.open('/f', parseOpenFlags('a'));
    await handle.write(0, Buffer.from('XY'));
    await handle.close();
    assert.equal((await fs.readFile('/f')).toString(), 'abcXY');
  });
});

describe('NodeFS root prefix over node:fs', () => {
  it('maps / to the root, keeps `..` below it and reports realpath relative to it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sftp-expose-nodefs-'));
    try {
      const fs = new NodeFS(nodeFs, { root });
      await fs.writeFile('/../../f', 'x');
      assert.equal(nodeFs.readFileSync(join(root, 'f'), 'utf8'), 'x');
      assert.equal(await fs.realpath('/../f'), '/f');
      await fs.symlink('/f', '/abs');
      assert.equal(nodeFs.readlinkSync(join(root, 'abs')), join(root, 'f'));
      assert.equal(await fs.readlink('/abs'), '/f');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('reports realpath relative to a root given through a symlink', async () => {
    const sandbox = await mkdtemp(join(tmpdir(), 'sftp-expose-nodefs-'));
    try {
      nodeFs.mkdirSync(join(sandbox, 'real'));
      nodeFs.mkdirSync(join(sandbox, 'real', 'd'));
      nodeFs.symlinkSync('real', join(sandbox, 'via-link'));
      const fs = new NodeFS(nodeFs, { root: join(sandbox, 'via-link') });
      assert.equal(await fs.realpath('/d'), '/d');
      assert.equal(await fs.realpath('/d/new'), '/d/new');
      assert.equal(await fs.realpath('/'), '/');
    } finally {
      await rm(sandbox, { recursive: true, force: true });
    }
  });
});
