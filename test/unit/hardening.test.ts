import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ClientChannel } from 'ssh2';
import { Random } from '../../fuzz/engine/random.js';
import { CountingMemoryFS } from '../../fuzz/targets/countingFS.js';
import { MemoryFS } from '../../src/backends/memory.js';
import { defaultSessionLimits } from '../../src/sftp/limits.js';
import { PacketWriter } from '../../src/sftp/protocol/codec.js';
import { OpenFlag, PacketType, StatusCode } from '../../src/sftp/protocol/constants.js';
import { decodeRequest, encodeRequest } from '../../src/sftp/protocol/messages.js';
import { SessionPipe, sessionPipes } from '../helpers/sessionPipe.js';
import { expectReply, type Reply } from '../helpers/sftpReplies.js';
import { connectClient, connectSsh2, endClient } from '../helpers/ssh2Client.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

/**
 * What a hostile or broken client can do to one session, and that it never
 * reaches the process or the other sessions. Framing errors, requests before
 * INIT, a second INIT and the basic invalid handles are in session.test.ts;
 * the fuzzer (fuzz/) covers the inputs nobody thought of.
 */

const pipes = sessionPipes();
const startedPipe = pipes.start;

function status(reply: Reply): { code: number; message: string } {
  const { code, message } = expectReply(reply, 'status');
  return { code, message };
}

async function open(pipe: SessionPipe, path: string, pflags = OpenFlag.READ | OpenFlag.WRITE | OpenFlag.CREAT): Promise<Buffer> {
  return expectReply(await pipe.request({ type: PacketType.OPEN, path, pflags, attrs: {} }), 'handle').handle;
}

/** The fields of an extension request, without its name (what `payload` carries). */
function fields(build: (writer: PacketWriter) => PacketWriter): Buffer {
  return Buffer.from(build(new PacketWriter(0)).fields());
}

describe('hardening of the codec', () => {
  it('encodes a uint64 near 2^64 (which decodes to the double 2^64) as 2^64-1, not wrapped to 0', () => {
    // Found by the decoder fuzz target: SETSTAT with size 0xfffffffffffffe65.
    const sent = Buffer.from('0900000001000000012f00000001fffffffffffffe65', 'hex');
    const decoded = decodeRequest(sent);
    assert.ok(decoded.type === PacketType.SETSTAT && decoded.attrs.size === 2 ** 64);
    const encoded = encodeRequest(decoded);
    assert.equal(encoded.subarray(-8).toString('hex'), 'ffffffffffffffff');
    assert.deepEqual(decodeRequest(encoded.subarray(4)), decoded);
  });
});

describe('hardening of one session', () => {
  it('10,000 pipelined OPENs: exactly the handle limit succeeds, the rest fail naming the limit, and the session goes on', async () => {
    const fs = new CountingMemoryFS(false);
    await fs.writeFile('/f', 'content');
    const pipe = await startedPipe(fs);
    const limit = defaultSessionLimits.maxOpenHandles;
    // All sent before any reply: every OPEN passes the limit check before the first one completes.
    const replies = await Promise.all(Array.from({ length: 10_000 }, () => pipe.request({ type: PacketType.OPEN, path: '/f', pflags: OpenFlag.READ, attrs: {} })));
    const handles = replies.filter((reply) => reply.type === 'handle').map((reply) => expectReply(reply, 'handle').handle);
    const refusals = replies.filter((reply) => reply.type === 'status').map(status);
    assert.equal(handles.length, limit);
    assert.equal(refusals.length, 10_000 - limit);
    for (const refusal of refusals) assert.deepEqual(refusal, { code: StatusCode.FAILURE, message: `Too many open handles (limit ${limit})` });
    assert.equal(pipe.session.openHandles, limit);
    assert.equal(fs.stillOpen, limit, 'the FS holds no handle beyond the limit');

    assert.equal(expectReply(await pipe.request({ type: PacketType.STAT, path: '/f' }), 'attrs').attrs.size, 7, 'other requests are still answered');
    for (const handle of handles.slice(0, 10)) assert.equal(status(await pipe.request({ type: PacketType.CLOSE, handle })).code, StatusCode.OK);
    const again = await Promise.all(Array.from({ length: 11 }, () => pipe.request({ type: PacketType.OPEN, path: '/f', pflags: OpenFlag.READ, attrs: {} })));
    assert.deepEqual(again.map((reply) => reply.type), [...Array<string>(10).fill('handle'), 'status'], 'ten closed, ten opened again');
    expectReply(await pipe.request({ type: PacketType.READ, handle: handles[10]!, offset: 0, length: 100 }), 'data');

    pipe.end();
    await pipe.ended;
    assert.equal(fs.stillOpen, 0, 'every handle released when the session ends');
  });

  it('clamps a READ of 2^32-1 bytes to maxReadLength', async () => {
    const fs = new MemoryFS();
    const content = randomBytes(defaultSessionLimits.maxReadLength * 2);
    await fs.writeFile('/big', content);
    const pipe = await startedPipe(fs);
    const handle = await open(pipe, '/big', OpenFlag.READ);
    const data = expectReply(await pipe.request({ type: PacketType.READ, handle, offset: 5, length: 0xffffffff }), 'data').data;
    assert.equal(data.length, defaultSessionLimits.maxReadLength);
    assert.ok(data.equals(content.subarray(5, 5 + data.length)));
  });

  it('answers FAILURE "Invalid handle" to every handle request with an oversized, empty, never-issued or closed handle', async () => {
    const pipe = await startedPipe(new MemoryFS());
    const closed = await open(pipe, '/closed');
    assert.equal(status(await pipe.request({ type: PacketType.CLOSE, handle: closed })).code, StatusCode.OK);
    const live = await open(pipe, '/live');
    const oversized = Buffer.concat([live, Buffer.alloc(300)]);
    const neverIssued = Buffer.from([0xff, 0xff, 0xff, 0xff]);
    for (const [label, handle] of [['300 bytes', oversized], ['0 bytes', Buffer.alloc(0)], ['never issued', neverIssued], ['closed', closed]] as const) {
      const requests = [
        { type: PacketType.CLOSE, handle },
        { type: PacketType.READ, handle, offset: 0, length: 10 },
        { type: PacketType.WRITE, handle, offset: 0, data: Buffer.from('x') },
        { type: PacketType.FSTAT, handle },
        { type: PacketType.FSETSTAT, handle, attrs: { permissions: 0o600 } },
        { type: PacketType.READDIR, handle },
        { type: PacketType.EXTENDED, name: 'fsync@openssh.com', payload: fields((w) => w.bytes(handle)) },
      ] as const;
      for (const request of requests) {
        assert.deepEqual(status(await pipe.request(request)), { code: StatusCode.FAILURE, message: 'Invalid handle' }, `${label} handle, request type ${request.type}`);
      }
    }
    assert.equal(status(await pipe.request({ type: PacketType.WRITE, handle: live, offset: 0, data: Buffer.from('ok') })).code, StatusCode.OK, 'the live handle still works');
  });

  it('refuses a WRITE larger than maxWriteLength with FAILURE naming the limit, and writes nothing', async () => {
    const fs = new MemoryFS();
    const pipe = await startedPipe(fs, { limits: { maxWriteLength: 1000 } });
    const handle = await open(pipe, '/w');
    const refused = status(await pipe.request({ type: PacketType.WRITE, handle, offset: 0, data: Buffer.alloc(1001, 1) }));
    assert.equal(refused.code, StatusCode.FAILURE);
    assert.match(refused.message, /1001 bytes exceeds the limit of 1000/);
    assert.equal((await fs.stat('/w')).size, 0);
    assert.equal(status(await pipe.request({ type: PacketType.WRITE, handle, offset: 0, data: Buffer.alloc(1000, 1) })).code, StatusCode.OK);
    assert.equal((await fs.stat('/w')).size, 1000);
  });

  it('answers BAD_MESSAGE to extended requests whose payload stops short, and goes on', async () => {
    const fs = new MemoryFS();
    await fs.writeFile('/f', 'abc');
    const pipe = await startedPipe(fs);
    const handle = await open(pipe, '/f', OpenFlag.READ);
    const truncated: Array<[string, Buffer]> = [
      ['posix-rename@openssh.com', fields((w) => w.string('/f'))],
      ['hardlink@openssh.com', Buffer.from([0, 0, 0, 9, 0x2f])],
      ['statvfs@openssh.com', Buffer.alloc(0)],
      ['lsetstat@openssh.com', fields((w) => w.string('/f').uint32(0x4))],
      ['copy-data', fields((w) => w.bytes(handle).uint64(0))],
      ['check-file-handle', fields((w) => w.bytes(handle).string('md5').uint64(0))],
      ['check-file-name', fields((w) => w.string('/f'))],
      ['users-groups-by-id@openssh.com', fields((w) => w.bytes(Buffer.from([0, 0, 0])).bytes(Buffer.alloc(0)))],
      ['expand-path@openssh.com', Buffer.from([0, 0])],
    ];
    for (const [name, payload] of truncated) {
      const reply = status(await pipe.request({ type: PacketType.EXTENDED, name, payload }));
      assert.equal(reply.code, StatusCode.BAD_MESSAGE, `${name}: ${reply.message}`);
    }
    assert.equal(expectReply(await pipe.request({ type: PacketType.READ, handle, offset: 0, length: 10 }), 'data').data.toString(), 'abc');
    assert.deepEqual((await fs.listdirAll('/')).map((entry) => entry.name), ['f'], 'nothing was renamed or linked');
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`survives seeded garbage (seed ${seed}) after INIT and without it, releasing every handle, while another session keeps working`, async () => {
      const random = new Random(seed);
      const fs = new CountingMemoryFS(seed % 2 === 0);
      await fs.writeFile('/f', 'kept');
      const healthy = await startedPipe(fs);
      const healthyHandle = await open(healthy, '/f', OpenFlag.READ);
      for (const withInit of [true, false]) {
        const pipe = pipes.create(fs);
        if (withInit) {
          await pipe.init();
          // A few real requests first, so there are handles to leak.
          await open(pipe, '/f', OpenFlag.READ);
          await open(pipe, '/g');
        }
        // Garbage that still frames now and then: random bodies behind plausible lengths, then raw bytes.
        for (let i = 0; i < 20; i++) {
          const body = random.bytes(1 + random.below(40));
          const prefix = Buffer.alloc(4);
          prefix.writeUInt32BE(body.length);
          pipe.sendRaw(Buffer.concat([prefix, body]));
        }
        pipe.sendRaw(random.bytes(4096));
        pipe.end();
        const reason = await pipe.ended;
        assert.ok(reason.length > 0);
        assert.equal(pipe.session.openHandles, 0);
        const data = expectReply(await healthy.request({ type: PacketType.READ, handle: healthyHandle, offset: 0, length: 10 }), 'data').data;
        assert.equal(data.toString(), 'kept', `the other session still reads after garbage (${withInit ? 'with' : 'without'} INIT)`);
      }
      healthy.end();
      await healthy.ended;
      assert.equal(fs.stillOpen, 0, 'every file handle the FS gave out was released');
    });
  }
});

describe('hardening over SSH: garbage on one sftp channel', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.close());

  /** Resolves when the channel has closed; rejects after a bound. */
  function closed(channel: ClientChannel, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the channel stayed open for ${timeoutMs} ms after garbage`)), timeoutMs);
      channel.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  it('closes only that channel; a concurrent client keeps working before, during and after', async () => {
    const auth = { username: TEST_USER, privateKey: await import('node:fs').then((fs) => fs.readFileSync(server.clientKeyPath)) };
    const good = await connectSsh2(server.port, auth);
    const raw = await connectClient(server.port, auth);
    try {
      await good.p.writeFile('/before', 'one');
      const channel = await new Promise<ClientChannel>((resolve, reject) => raw.subsys('sftp', (error, stream) => (error ? reject(error) : resolve(stream))));
      const ended = closed(channel);
      // Replies are not read here; flowing, so the stream can reach its end and close.
      channel.resume();
      channel.write(encodeRequest({ type: PacketType.INIT, version: 3 }));
      // A packet of random bytes (of a correct length, so it is read as one), then a length
      // far past the limit: nothing after it can be framed, the session must end.
      const body = new Random(42).bytes(64);
      channel.write(Buffer.concat([Buffer.from([0, 0, 0, body.length]), body]));
      channel.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
      assert.equal((await good.p.readFile('/before')).toString(), 'one', 'served while the other channel gets garbage');
      await ended;
      await good.p.writeFile('/after', 'two');
      assert.equal((await good.p.readFile('/after')).toString(), 'two');
      const second = await connectSsh2(server.port, auth);
      try {
        assert.equal((await second.p.readFile('/after')).toString(), 'two', 'a new client after the garbage is served');
      } finally {
        await second.close();
      }
    } finally {
      await endClient(raw);
      await good.close();
    }
  });
});
