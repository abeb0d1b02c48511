import assert from 'node:assert/strict';
import { open, mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WriteBehind } from '../../src/backends/nodefs/writeBehind.js';
import { InsufficientStorage, LocalFS, parseOpenFlags } from '../../src/index.js';

describe('WriteBehind: sequential writes gathered into large ones', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'writebehind-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  /** A real file, with every write that reaches it recorded. */
  async function recordedFile(name: string, append = false, capacity = 64 * 1024) {
    const handle = await open(join(dir, name), append ? 'a' : 'w');
    const writes: Array<{ length: number; position: number | null }> = [];
    const behind = new WriteBehind(async (data, position) => {
      writes.push({ length: data.length, position });
      await handle.write(data, 0, data.length, position);
    }, append, capacity);
    return { behind, writes, close: () => handle.close(), path: join(dir, name) };
  }

  it('turns 32 sequential 4 KiB writes into two 64 KiB writes with the same bytes', async () => {
    const { behind, writes, close, path } = await recordedFile('seq');
    const expected = Buffer.alloc(128 * 1024);
    for (let i = 0; i < 32; i++) {
      const chunk = Buffer.alloc(4096, i);
      chunk.copy(expected, i * 4096);
      await behind.write(i * 4096, chunk);
    }
    await behind.flush();
    await close();
    assert.deepEqual(writes, [{ length: 65536, position: 0 }, { length: 65536, position: 65536 }]);
    assert.deepEqual(await readFile(path), expected);
  });

  it('flushes what it holds before a write that does not continue it', async () => {
    const { behind, writes, close, path } = await recordedFile('jump');
    await behind.write(0, Buffer.from('aaaa'));
    await behind.write(10, Buffer.from('bbbb'));
    await behind.flush();
    await close();
    assert.deepEqual(writes, [{ length: 4, position: 0 }, { length: 4, position: 10 }]);
    assert.deepEqual(await readFile(path), Buffer.concat([Buffer.from('aaaa'), Buffer.alloc(6), Buffer.from('bbbb')]));
  });

  it('applies overlapping calls in call order', async () => {
    const { behind, close, path } = await recordedFile('overlap');
    await Promise.all([behind.write(0, Buffer.from('12345')), behind.write(2, Buffer.from('xy')), behind.write(5, Buffer.from('!'))]);
    await behind.flush();
    await close();
    assert.equal(await readFile(path, 'utf8'), '12xy5!');
  });

  it('in append mode gathers every write and leaves the position to the file', async () => {
    const { behind, writes, close, path } = await recordedFile('append', true);
    await behind.write(100, Buffer.from('one '));
    await behind.write(0, Buffer.from('two'));
    await behind.flush();
    await close();
    assert.deepEqual(writes, [{ length: 7, position: null }]);
    assert.equal(await readFile(path, 'utf8'), 'one two');
  });

  it('reports a failed flush on every later write and flush', async () => {
    let calls = 0;
    const behind = new WriteBehind(async () => {
      calls++;
      throw new Error('disk on fire');
    }, false, 16);
    await behind.write(0, Buffer.from('12345678'));
    await behind.write(8, Buffer.from('12345678')); // fills the buffer: the flush starts, and fails after this write was answered
    await assert.rejects(behind.flush(), /disk on fire/);
    await assert.rejects(behind.write(8, Buffer.from('x')), /disk on fire/);
    await assert.rejects(behind.flush(), /disk on fire/);
    assert.equal(calls, 1);
  });

  it('a released first buffer serves the next handle; one holding unwritten bytes is not released', async () => {
    const memory: ArrayBufferLike[] = [];
    const recording = () => new WriteBehind(async (data) => void memory.push(data.buffer), false, 1024 * 1024);
    const first = recording();
    await first.write(0, Buffer.alloc(4096, 1));
    await first.flush();
    first.release();
    const second = recording();
    await second.write(0, Buffer.alloc(4096, 2));
    await second.flush();
    assert.equal(memory[1], memory[0], "the second handle gathers in the first one's buffer");

    // Bytes gathered but not yet written: release must keep their buffer out of the pool.
    const written: Buffer[] = [];
    const copying = () => new WriteBehind(async (data) => void written.push(Buffer.from(data)), false, 1024 * 1024);
    const gathered = copying();
    await gathered.write(0, Buffer.alloc(4096, 3));
    gathered.release();
    const next = copying();
    await next.write(0, Buffer.alloc(4096, 4));
    await gathered.flush();
    await next.flush();
    assert.deepEqual(written, [Buffer.alloc(4096, 3), Buffer.alloc(4096, 4)], 'each handle wrote its own bytes');
  });

  it('many small files through LocalFS, closed one after another, each holds its own bytes', async () => {
    const fs = new LocalFS({ root: dir });
    for (let i = 0; i < 50; i++) {
      const handle = await fs.open(`/small-${i}`, parseOpenFlags('w'));
      await handle.write(0, Buffer.alloc(4096 + i, i));
      await handle.close();
    }
    for (let i = 0; i < 50; i++) assert.deepEqual(await readFile(join(dir, `small-${i}`)), Buffer.alloc(4096 + i, i));
  });
});

describe('a LocalFS handle whose gathered writes fail (the real /dev/full)', () => {
  it('reports the failure on close as InsufficientStorage', async (t) => {
    const fs = new LocalFS({ root: '/' });
    if (!(await fs.exists('/dev/full'))) return t.skip('/dev/full is missing on this machine');
    const handle = await fs.open('/dev/full', parseOpenFlags('w'));
    await handle.write(0, Buffer.alloc(1000, 1)); // acknowledged at once: the bytes are only gathered
    await assert.rejects(handle.close(), InsufficientStorage);
  });
});
