import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import type { DirEntry } from '../../src/fs/types.js';
import { WrapFS } from '../../src/fs/wrappers/WrapFS.js';
import { builtinExtensions } from '../../src/sftp/extensions.js';
import { OpenFlag, PacketType, StatusCode } from '../../src/sftp/protocol/constants.js';
import { encodeName, encodeRequest } from '../../src/sftp/protocol/messages.js';
import { SFTPServerInterface, type OpenFile } from '../../src/sftp/SFTPServerInterface.js';
import { Gate, InstrumentedFS } from '../helpers/instrumentedFS.js';
import { SessionPipe, sessionPipes } from '../helpers/sessionPipe.js';
import { expectReply, type Reply } from '../helpers/sftpReplies.js';
import { waitFor } from '../helpers/waitFor.js';

const READ_WRITE_CREATE = OpenFlag.READ | OpenFlag.WRITE | OpenFlag.CREAT;
const pipes = sessionPipes();
const startedPipe = pipes.start;

async function openFile(pipe: SessionPipe, path: string, pflags = READ_WRITE_CREATE): Promise<Buffer> {
  return expectReply(await pipe.request({ type: PacketType.OPEN, path, pflags, attrs: {} }), 'handle').handle;
}

function statusOf(reply: Reply): { code: number; message: string } {
  const { code, message } = expectReply(reply, 'status');
  return { code, message };
}

/** A length-prefixed packet of the given body, built by hand. */
function framed(body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

describe('Session', () => {
  describe('start', () => {
    it('answers INIT with VERSION 3 and every built-in extension the FS can do', async () => {
      const fs = new MemoryFS();
      const pipe = pipes.create(fs);
      const version = await pipe.init(6);
      assert.equal(version.version, 3, 'a v6 client is answered with v3');
      const available = builtinExtensions.filter((ext) => ext.isAvailable(fs)).map((ext) => [ext.name, ext.version]);
      assert.deepEqual(Object.fromEntries(version.extensions), Object.fromEntries(available));
      for (const name of ['posix-rename@openssh.com', 'statvfs@openssh.com', 'hardlink@openssh.com', 'fsync@openssh.com', 'limits@openssh.com']) {
        assert.ok(version.extensions.has(name), `${name} is advertised for MemoryFS`);
      }
    });

    it('advertises only the offered extensions the FS supports', async () => {
      const [statvfs, hardlink] = ['statvfs@openssh.com', 'hardlink@openssh.com'].map((name) => builtinExtensions.find((ext) => ext.name === name)!);
      const noLinks = new (class extends MemoryFS {})();
      Object.defineProperty(noLinks, 'link', { value: undefined });
      const pipe = pipes.create(noLinks, { extensions: [statvfs!, hardlink!] });
      assert.deepEqual([...(await pipe.init()).extensions.keys()], ['statvfs@openssh.com']);
    });

    it('ends the session on a request before INIT', async () => {
      const pipe = new SessionPipe(new MemoryFS());
      pipe.sendRaw(encodeRequest({ type: PacketType.STAT, id: 1, path: '/' }));
      assert.equal(await pipe.ended, 'request before INIT');
      assert.equal(pipe.closeCalls, 1);
      assert.deepEqual(pipe.unclaimedReplies, []);
    });

    it('ends the session on a second INIT', async () => {
      const pipe = await startedPipe(new MemoryFS());
      pipe.sendRaw(encodeRequest({ type: PacketType.INIT, version: 3 }));
      assert.equal(await pipe.ended, 'INIT received twice');
      assert.equal(pipe.closeCalls, 1);
    });
  });

  describe('pipelining and ordering', () => {
    it('answers 64 pipelined WRITEs and then 64 pipelined READs by id, with the right bytes', async () => {
      const pipe = await startedPipe(new MemoryFS());
      const handle = await openFile(pipe, '/pipelined');
      const block = 4096;
      const content = randomBytes(64 * block);
      const order = [...Array(64).keys()].sort(() => Math.random() - 0.5);
      const writes = order.map((i) => {
        const id = pipe.id();
        return pipe.request({ id, type: PacketType.WRITE, handle, offset: i * block, data: content.subarray(i * block, (i + 1) * block) })
          .then((reply) => ({ id, reply }));
      });
      for (const { id, reply } of await Promise.all(writes)) {
        assert.equal(reply.type === 'status' && reply.id, id);
        assert.equal(statusOf(reply).code, StatusCode.OK);
      }
      const reads = order.map((i) => pipe.request({ type: PacketType.READ, handle, offset: i * block, length: block }).then((reply) => ({ i, reply })));
      for (const { i, reply } of await Promise.all(reads)) {
        assert.ok(expectReply(reply, 'data').data.equals(content.subarray(i * block, (i + 1) * block)), `block ${i}`);
      }
    });

    it('runs a READ sent right after a WRITE on the same handle only once the write is done', async () => {
      const fs = new InstrumentedFS();
      const pipe = await startedPipe(fs);
      const handle = await openFile(pipe, '/ordered');
      fs.writeGate = new Gate();
      const write = pipe.request({ type: PacketType.WRITE, handle, offset: 0, data: Buffer.from('written') });
      const read = pipe.request({ type: PacketType.READ, handle, offset: 0, length: 100 });
      await waitFor(() => fs.calls.write === 1, 'the write to reach the FS');
      assert.equal(fs.calls.read, 0, 'the read waits for the write');
      fs.writeGate.open();
      assert.equal(statusOf(await write).code, StatusCode.OK);
      assert.equal(expectReply(await read, 'data').data.toString(), 'written');
    });
  });

  describe('writing replies', () => {
    /** Counts the session's writes to its transport. */
    function countWrites(pipe: SessionPipe): { count: number } {
      const counter = { count: 0 };
      const write = pipe.toClient.write.bind(pipe.toClient) as (...args: unknown[]) => boolean;
      pipe.toClient.write = ((...args: unknown[]) => {
        counter.count++;
        return write(...args);
      }) as typeof pipe.toClient.write;
      return counter;
    }

    it('writes the reply to a lone request in the turn it is ready, not after the next poll of the event loop', async () => {
      const pipe = await startedPipe(new MemoryFS());
      let pollCameFirst = false;
      const reply = pipe.request({ type: PacketType.STAT, path: '/' });
      setImmediate(() => (pollCameFirst = true));
      assert.equal(expectReply(await reply, 'attrs').type, 'attrs');
      assert.equal(pollCameFirst, false, 'the reply arrived before an immediate queued with the request ran');
    });

    it('writes the replies to WRITEs that arrive in separate reads of one turn together, as an upload streams them', async () => {
      const pipe = await startedPipe(new MemoryFS());
      const handle = await openFile(pipe, '/upload');
      const writes = countWrites(pipe);
      const [first, second] = [pipe.id(), pipe.id()];
      const replies = [first, second].map((id) => pipe.replyTo(id));
      const write = (id: number, offset: number) => encodeRequest({ type: PacketType.WRITE, id, handle, offset, data: Buffer.alloc(1024, id) });
      // The second read comes in the same turn, after the first WRITE is done: an immediate queued before the session's.
      setImmediate(() => pipe.sendRaw(write(second, 1024)));
      pipe.sendRaw(write(first, 0));
      for (const reply of await Promise.all(replies)) assert.equal(statusOf(reply).code, StatusCode.OK);
      assert.equal(writes.count, 1, `two WRITE replies in ${writes.count} writes`);
    });

    it('writes the replies to requests that arrive together in one write', async () => {
      const pipe = await startedPipe(new MemoryFS());
      const writes = countWrites(pipe);
      const ids = [pipe.id(), pipe.id(), pipe.id()];
      const replies = ids.map((id) => pipe.replyTo(id));
      pipe.sendRaw(Buffer.concat(ids.map((id) => encodeRequest({ type: PacketType.STAT, id, path: '/' }))));
      for (const reply of await Promise.all(replies)) expectReply(reply, 'attrs');
      assert.equal(writes.count, 1, `three replies in ${writes.count} writes`);
    });
  });

  describe('READ', () => {
    it('clamps a READ to maxReadLength', async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/big', randomBytes(5000));
      const pipe = await startedPipe(fs, { limits: { maxReadLength: 1000 } });
      const handle = await openFile(pipe, '/big', OpenFlag.READ);
      const data = expectReply(await pipe.request({ type: PacketType.READ, handle, offset: 100, length: 4000 }), 'data').data;
      assert.equal(data.length, 1000);
      assert.ok(data.equals((await fs.readFile('/big')).subarray(100, 1100)));
    });

    it('serves what a subclass\'s read override returns (reads into reply buffers go through it)', async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/text', 'quiet words');
      class Shouting extends SFTPServerInterface {
        override async read(open: OpenFile, offset: number, length: number): Promise<Buffer> {
          return Buffer.from((await super.read(open, offset, length)).toString().toUpperCase());
        }
      }
      const pipe = await startedPipe(new Shouting(fs));
      const handle = await openFile(pipe, '/text', OpenFlag.READ);
      for (const length of [4, 200 * 1024]) {
        assert.equal(expectReply(await pipe.request({ type: PacketType.READ, handle, offset: 0, length }), 'data').data.toString(), 'QUIET WORDS'.slice(0, length));
      }
    });

    it('answers EOF for a READ at or past the end', async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/small', 'abc');
      const pipe = await startedPipe(fs);
      const handle = await openFile(pipe, '/small', OpenFlag.READ);
      assert.equal(expectReply(await pipe.request({ type: PacketType.READ, handle, offset: 1, length: 10 }), 'data').data.toString(), 'bc');
      for (const offset of [3, 4, 2 ** 40]) {
        assert.equal(statusOf(await pipe.request({ type: PacketType.READ, handle, offset, length: 10 })).code, StatusCode.EOF, `offset ${offset}`);
      }
    });
  });

  it('lists a 2,000-entry directory in several READDIR batches, each name once, then EOF', async () => {
    const fs = new MemoryFS();
    await fs.mkdir('/many');
    const expected = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const name = `entry-${String(i).padStart(4, '0')}`;
      expected.add(name);
      await fs.writeFile(`/many/${name}`, '');
    }
    const pipe = await startedPipe(fs);
    const handle = expectReply(await pipe.request({ type: PacketType.OPENDIR, path: '/many' }), 'handle').handle;
    const seen: string[] = [];
    let batches = 0;
    for (;;) {
      const reply = await pipe.request({ type: PacketType.READDIR, handle });
      if (reply.type === 'status') {
        assert.equal(reply.code, StatusCode.EOF);
        break;
      }
      batches++;
      seen.push(...expectReply(reply, 'name').entries.map((entry) => entry.filename));
    }
    assert.ok(batches >= 4, `2,000 entries in ${batches} batches (at most 512 each)`);
    assert.equal(seen.length, 2000);
    assert.deepEqual(new Set(seen), expected);
    assert.equal(statusOf(await pipe.request({ type: PacketType.READDIR, handle })).code, StatusCode.EOF, 'EOF again after the end');
  });

  describe('READDIR read-ahead', () => {
    /** A MemoryFS that counts the entries its listings have produced, and the listings finished or abandoned. */
    class CountingFS extends WrapFS {
      pulled = 0;
      ended = 0;
      failAfter = Infinity;

      constructor() {
        super(new MemoryFS());
      }

      override async *listdir(path: string): AsyncIterable<DirEntry> {
        try {
          for await (const entry of this.inner.listdir(path)) {
            if (this.pulled >= this.failAfter) throw new Error('disk read error');
            this.pulled++;
            yield entry;
          }
        } finally {
          this.ended++;
        }
      }
    }

    async function directories(count: number, entries: number): Promise<CountingFS> {
      const fs = new CountingFS();
      for (let d = 0; d < count; d++) {
        await fs.mkdir(`/d${d}`);
        for (let i = 0; i < entries; i++) await fs.writeFile(`/d${d}/${String(i).padStart(4, '0')}`, '');
      }
      return fs;
    }

    const opendir = async (pipe: SessionPipe, path: string) => expectReply(await pipe.request({ type: PacketType.OPENDIR, path }), 'handle').handle;
    const names = async (pipe: SessionPipe, handle: Buffer) => expectReply(await pipe.request({ type: PacketType.READDIR, handle }), 'name').entries.map((e) => e.filename);
    /** Lets the session run its immediates (the read-ahead starts two turns after a reply). */
    const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
    /**
     * Waits for `expected` entries read in all, then gives the session time to read more than it should:
     * a fixed wait alone can end before a loaded machine has read what it may.
     */
    const settleAt = async (fs: CountingFS, expected: number, what: string) => {
      await waitFor(() => fs.pulled >= expected, `${what} (${fs.pulled} entries read)`);
      await settle();
      assert.equal(fs.pulled, expected, what);
    };

    it('reads the next batch before the client asks, and the client still gets every name once, in order', async () => {
      const fs = await directories(1, 1500);
      const pipe = await startedPipe(fs);
      const handle = await opendir(pipe, '/d0');
      const listed = await names(pipe, handle);
      assert.equal(listed.length, 512);
      assert.equal(fs.pulled, 512, 'the reply goes out before the next batch is read');
      await waitFor(() => fs.pulled === 1024, `the second batch read ahead (${fs.pulled} entries read)`);
      for (;;) {
        const reply = await pipe.request({ type: PacketType.READDIR, handle });
        if (reply.type === 'status') {
          assert.equal(reply.code, StatusCode.EOF);
          break;
        }
        listed.push(...expectReply(reply, 'name').entries.map((e) => e.filename));
      }
      assert.deepEqual(listed, Array.from({ length: 1500 }, (_, i) => String(i).padStart(4, '0')));
      assert.equal(statusOf(await pipe.request({ type: PacketType.CLOSE, handle })).code, StatusCode.OK);
      assert.equal(fs.ended, 1);
    });

    it('gives a failure met while reading ahead to the next READDIR', async () => {
      const fs = await directories(1, 1500);
      fs.failAfter = 600;
      const pipe = await startedPipe(fs);
      const handle = await opendir(pipe, '/d0');
      assert.equal((await names(pipe, handle)).length, 512);
      await settle();
      const failed = statusOf(await pipe.request({ type: PacketType.READDIR, handle }));
      assert.equal(failed.code, StatusCode.FAILURE);
      assert.match(failed.message, /disk read error/);
    });

    it('reads nothing ahead for a directory closed right after its READDIR, and keeps no room for it', async () => {
      const fs = await directories(5, 1100);
      const pipe = await startedPipe(fs);
      for (let d = 0; d < 4; d++) {
        const handle = await opendir(pipe, `/d${d}`);
        // Sent together: the CLOSE is in before the read-ahead would start.
        const [listed, closed] = await Promise.all([names(pipe, handle), pipe.request({ type: PacketType.CLOSE, handle })]);
        assert.equal(listed.length, 512);
        assert.equal(statusOf(closed).code, StatusCode.OK);
      }
      await settle();
      assert.equal(fs.pulled, 4 * 512, 'nothing read ahead for closed directories');
      assert.equal(fs.ended, 4);
      const handle = await opendir(pipe, '/d4');
      await names(pipe, handle);
      await waitFor(() => fs.pulled === 6 * 512, `a fifth directory still read ahead (${fs.pulled} entries read)`);
    });

    it('holds at most four batches read ahead however many directories are listed at once', async () => {
      const fs = await directories(11, 1100);
      const pipe = await startedPipe(fs);
      const handles = [];
      for (let d = 0; d < 10; d++) handles.push(await opendir(pipe, `/d${d}`));
      for (const handle of handles) assert.equal((await names(pipe, handle)).length, 512);
      await settleAt(fs, 10 * 512 + 4 * 512, 'ten first batches and four read ahead');
      // Taking the batches read ahead frees room for more.
      for (const handle of handles) assert.equal((await names(pipe, handle)).length, 512);
      await settle();
      for (const handle of handles) assert.equal((await names(pipe, handle)).length, 76);
      await settle();
      // Closing directories that hold batches read ahead (empty ones by now) frees their room.
      for (const handle of handles) assert.equal(statusOf(await pipe.request({ type: PacketType.CLOSE, handle })).code, StatusCode.OK);
      const pulled = fs.pulled;
      await names(pipe, await opendir(pipe, '/d10'));
      await waitFor(() => fs.pulled === pulled + 2 * 512, `a new directory read ahead (${fs.pulled - pulled} entries read)`);
    });
  });

  it('keeps every READDIR reply within the size budget, long names and long owner names included', async () => {
    // Owner and group names of 32 characters (the longest useradd allows) widen every longname.
    const named = new (class extends WrapFS {
      override async *listdir(path: string): AsyncIterable<DirEntry> {
        for await (const entry of this.inner.listdir(path)) yield { ...entry, stats: { ...entry.stats, owner: 'o'.repeat(32), group: 'g'.repeat(32) } };
      }
    })(new MemoryFS());
    await named.mkdir('/long');
    for (let i = 0; i < 1500; i++) await named.writeFile(`/long/${String(i).padStart(5, '0')}${'n'.repeat(245)}`, '');
    const si = new SFTPServerInterface(named);
    const dir = await si.opendir('/long');
    const maxBytes = 255 * 1024;
    let listed = 0;
    for (;;) {
      const batch = await si.readdir(dir, { maxEntries: 100_000, maxBytes });
      if (batch.length === 0) break;
      listed += batch.length;
      // The reply less its header (length, type, id, count): what the budget covers.
      assert.ok(encodeName(1, batch).length - 13 <= maxBytes, `a reply of ${batch.length} entries, ${encodeName(1, batch).length} bytes`);
    }
    assert.equal(listed, 1500);
  });

  describe('bad requests', () => {
    it('answers a request on an unknown handle with FAILURE "Invalid handle"', async () => {
      const pipe = await startedPipe(new MemoryFS());
      for (const handle of [Buffer.from('nope'), Buffer.alloc(0), Buffer.from([0, 0, 0, 99])]) {
        assert.deepEqual(statusOf(await pipe.request({ type: PacketType.READ, handle, offset: 0, length: 10 })), { code: StatusCode.FAILURE, message: 'Invalid handle' });
      }
    });

    it('answers an unknown packet type with OP_UNSUPPORTED and goes on', async () => {
      const pipe = await startedPipe(new MemoryFS());
      const body = Buffer.from([99, 0, 0, 0, 42, 1, 2, 3]);
      const reply = pipe.replyTo(42);
      pipe.sendRaw(framed(body));
      assert.equal(statusOf(await reply).code, StatusCode.OP_UNSUPPORTED);
      assert.equal(expectReply(await pipe.request({ type: PacketType.STAT, path: '/' }), 'attrs').attrs.permissions! & 0o170000, 0o040000);
    });

    it('answers a truncated request with BAD_MESSAGE and goes on', async () => {
      const pipe = await startedPipe(new MemoryFS());
      // OPEN, id 7, a path length of 10 with only 3 bytes of path.
      const reply = pipe.replyTo(7);
      pipe.sendRaw(framed(Buffer.from([PacketType.OPEN, 0, 0, 0, 7, 0, 0, 0, 10, 0x61, 0x62, 0x63])));
      assert.equal(statusOf(await reply).code, StatusCode.BAD_MESSAGE);
      assert.equal(expectReply(await pipe.request({ type: PacketType.REALPATH, path: '.' }), 'name').entries[0]!.filename, '/');
      assert.equal(pipe.closeCalls, 0);
    });

    it('answers the requests before a bad packet length, in the same chunk too, then ends the session', async () => {
      const fs = new MemoryFS();
      const pipe = await startedPipe(fs);
      const reply = pipe.replyTo(9);
      const badLength = Buffer.from([0xff, 0xff, 0xff, 0xff]);
      pipe.sendRaw(Buffer.concat([encodeRequest({ type: PacketType.MKDIR, id: 9, path: '/made', attrs: {} }), badLength, encodeRequest({ type: PacketType.MKDIR, id: 10, path: '/not-made', attrs: {} })]));
      assert.equal(statusOf(await reply).code, StatusCode.OK);
      assert.equal(await pipe.ended, 'malformed packet stream');
      assert.equal((await fs.stat('/made')).type, 'directory');
      await assert.rejects(fs.stat('/not-made'));
    });

    for (const [label, length] of [['0', 0], ['over 256 KiB', 256 * 1024 + 1]] as const) {
      it(`ends the session on a packet length of ${label}, while another session keeps working`, async () => {
        const fs = new MemoryFS();
        const broken = await startedPipe(fs);
        const healthy = await startedPipe(fs);
        const prefix = Buffer.alloc(4);
        prefix.writeUInt32BE(length);
        broken.sendRaw(Buffer.concat([prefix, Buffer.alloc(16)]));
        assert.equal(await broken.ended, 'malformed packet stream');
        assert.equal(broken.closeCalls, 1);
        await fs.writeFile('/still', 'here');
        const handle = await openFile(healthy, '/still', OpenFlag.READ);
        assert.equal(expectReply(await healthy.request({ type: PacketType.READ, handle, offset: 0, length: 10 }), 'data').data.toString(), 'here');
        assert.equal(healthy.closeCalls, 0);
      });
    }
  });

  describe('limits', () => {
    it('refuses an OPEN beyond maxOpenHandles with FAILURE, and CLOSE frees a slot', async () => {
      const pipe = await startedPipe(new MemoryFS(), { limits: { maxOpenHandles: 2 } });
      const first = await openFile(pipe, '/a');
      await openFile(pipe, '/b');
      const refused = statusOf(await pipe.request({ type: PacketType.OPEN, path: '/c', pflags: READ_WRITE_CREATE, attrs: {} }));
      assert.equal(refused.code, StatusCode.FAILURE);
      assert.match(refused.message, /too many open handles/i);
      const dirRefused = statusOf(await pipe.request({ type: PacketType.OPENDIR, path: '/' }));
      assert.equal(dirRefused.code, StatusCode.FAILURE);
      assert.equal(pipe.session.openHandles, 2);
      assert.equal(statusOf(await pipe.request({ type: PacketType.CLOSE, handle: first })).code, StatusCode.OK);
      await openFile(pipe, '/c');
    });

    it('stops reading at maxInFlight requests and resumes when they complete', async () => {
      const fs = new InstrumentedFS();
      await fs.writeFile('/slow', randomBytes(100));
      const pipe = await startedPipe(fs, { limits: { maxInFlight: 4 } });
      const handle = await openFile(pipe, '/slow', OpenFlag.READ);
      fs.readGate = new Gate();
      const reads = Array.from({ length: 10 }, (_, i) => pipe.request({ type: PacketType.READ, handle, offset: i, length: 1 }));
      await waitFor(() => fs.calls.read === 4, 'four reads in the FS');
      await waitFor(() => pipe.toServer.isPaused(), 'the session to stop reading');
      // Give the session every chance to start more than the bound: it must not.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(fs.calls.read, 4);
      fs.readGate.open();
      const replies = await Promise.all(reads);
      replies.forEach((reply, i) => assert.equal(expectReply(reply, 'data').data.length, 1, `read ${i}`));
      assert.equal(fs.calls.read, 10);
      await waitFor(() => !pipe.toServer.isPaused(), 'the session to read again');
      assert.equal(expectReply(await pipe.request({ type: PacketType.STAT, path: '/slow' }), 'attrs').attrs.size, 100);
    });

    it('holds READs past maxReadBytesInFlight until earlier ones reply; a malformed READ takes none of the budget', async () => {
      const fs = new InstrumentedFS();
      const content = randomBytes(10_000);
      await fs.writeFile('/slow', content);
      const pipe = await startedPipe(fs, { limits: { maxReadBytesInFlight: 3000 } });
      const handle = await openFile(pipe, '/slow', OpenFlag.READ);
      // A READ cut short after its handle: BAD_MESSAGE, and its 1000 bytes must not stay counted.
      const id = pipe.id();
      const truncated = encodeRequest({ type: PacketType.READ, id, handle, offset: 0, length: 1000 }).subarray(0, -12);
      truncated.writeUInt32BE(truncated.length - 4, 0);
      const bad = pipe.replyTo(id);
      pipe.sendRaw(truncated);
      assert.equal(statusOf(await bad).code, StatusCode.BAD_MESSAGE);
      fs.readGate = new Gate();
      const reads = Array.from({ length: 8 }, (_, i) => pipe.request({ type: PacketType.READ, handle, offset: i * 1000, length: 1000 }));
      await waitFor(() => fs.calls.read === 3, 'three 1000-byte reads in the FS');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(fs.calls.read, 3, 'no fourth read while 3000 bytes are being read');
      fs.readGate.open();
      const replies = await Promise.all(reads);
      replies.forEach((reply, i) => assert.ok(expectReply(reply, 'data').data.equals(content.subarray(i * 1000, (i + 1) * 1000)), `read ${i}`));
    });
  });

  describe('end of session', () => {
    async function endWithOpenFile(withAbort: boolean, pflags: number) {
      const fs = new InstrumentedFS({ withAbort });
      const pipe = new SessionPipe(fs);
      await pipe.init();
      await openFile(pipe, '/f', pflags | OpenFlag.CREAT);
      await openFile(pipe, '/f', OpenFlag.READ);
      expectReply(await pipe.request({ type: PacketType.OPENDIR, path: '/' }), 'handle');
      pipe.end();
      await pipe.ended;
      assert.equal(pipe.session.openHandles, 0);
      return fs.calls;
    }

    it('closes every handle when the client goes away', async () => {
      const calls = await endWithOpenFile(false, OpenFlag.WRITE);
      assert.equal(calls.close, 2);
    });

    it('aborts a file open for writing when its handle can abort, closes the others', async () => {
      const calls = await endWithOpenFile(true, OpenFlag.WRITE);
      assert.deepEqual({ abort: calls.abort, close: calls.close }, { abort: 1, close: 1 });
    });

    it('closes a read-only file even when its handle could abort', async () => {
      const calls = await endWithOpenFile(true, OpenFlag.READ);
      assert.deepEqual({ abort: calls.abort, close: calls.close }, { abort: 0, close: 2 });
    });

    it('finishes requests in flight before releasing their handle', async () => {
      const fs = new InstrumentedFS({ withAbort: true });
      const pipe = new SessionPipe(fs);
      await pipe.init();
      const handle = await openFile(pipe, '/upload', OpenFlag.WRITE | OpenFlag.CREAT);
      fs.writeGate = new Gate();
      void pipe.request({ type: PacketType.WRITE, handle, offset: 0, data: Buffer.from('late') });
      await waitFor(() => fs.calls.write === 1, 'the write to reach the FS');
      pipe.end();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(fs.calls.abort, 0, 'not released while a write runs');
      fs.writeGate.open();
      await pipe.ended;
      assert.equal(fs.calls.abort, 1);
    });
  });
});
