import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Algorithms } from 'ssh2';
import { MemoryFS } from '../../src/backends/memory.js';
import { clientKey } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { connectSsh2, type Ssh2Connection } from '../helpers/ssh2Client.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

const skip = requireTool('ssh-keygen');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const FILE_SIZE = 16 * 1024 * 1024;
/** Server writes at least this long are bulk packets (channel data of the client's 32 KiB maximum packet). */
const BULK_PACKET = 16 * 1024;

/** The cipher families ssh2 builds packets for separately: AES-GCM, ChaCha20-Poly1305, CTR with a MAC, CTR with encrypt-then-MAC. */
const CIPHERS: { name: string; algorithms: Algorithms }[] = [
  { name: 'aes128-gcm', algorithms: { cipher: ['aes128-gcm@openssh.com'] } },
  { name: 'chacha20-poly1305', algorithms: { cipher: ['chacha20-poly1305@openssh.com'] } },
  { name: 'aes128-ctr + hmac-sha2-256', algorithms: { cipher: ['aes128-ctr'], hmac: ['hmac-sha2-256'] } },
  { name: 'aes128-ctr + hmac-sha2-256-etm', algorithms: { cipher: ['aes128-ctr'], hmac: ['hmac-sha2-256-etm@openssh.com'] } },
];

/** Reads the whole file, stopping for 30 ms after every MiB, so that the server's socket backs up. */
function readSlowly(conn: Ssh2Connection, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  let nextPause = 1024 * 1024;
  return new Promise((resolve, reject) => {
    const stream = conn.sftp.createReadStream(path, { highWaterMark: 64 * 1024 });
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < nextPause) return;
      nextPause += 1024 * 1024;
      stream.pause();
      setTimeout(() => stream.resume(), 30);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/**
 * The ssh2 patch (patches/ssh2+1.17.0.patch) reuses the buffers of outgoing
 * bulk packets once the socket has written them. A download must still be
 * byte-identical when the socket cannot keep up (libuv holds buffers until
 * their write completes), whatever the cipher, and must not take a new buffer
 * per packet.
 */
describe('outgoing SSH packet buffers are reused once written', { skip, timeout: 120_000 }, () => {
  let server: TestServer;
  let fs: MemoryFS;
  const content = randomBytes(FILE_SIZE);
  /** Whose bulk packet writes are counted: the server's (downloads) or the ssh2 client's (uploads). */
  let counted: 'server' | 'client' = 'server';
  /** The ArrayBuffers under the counted side's bulk packet writes, and how many such writes there were. */
  const packetBuffers = new Set<ArrayBufferLike>();
  let packetWrites = 0;
  const originalWrite = Socket.prototype.write;
  const reset = (side: 'server' | 'client') => {
    counted = side;
    packetBuffers.clear();
    packetWrites = 0;
  };
  const assertBounded = () => {
    assert.ok(packetWrites >= FILE_SIZE / (32 * 1024), `expected a bulk write per 32 KiB, saw ${packetWrites}`);
    // One buffer per packet without reuse; with it, about what the SSH window keeps in flight (2 MiB) plus the free list.
    assert.ok(packetBuffers.size <= 200, `${packetBuffers.size} buffers for ${packetWrites} bulk writes`);
  };

  before(async () => {
    fs = new MemoryFS();
    await fs.writeFile('/big.bin', content);
    server = await startTestServer({ fs });
    Socket.prototype.write = function (this: Socket, data: unknown, ...rest: unknown[]) {
      const side = this.localPort === server.port ? 'server' : this.remotePort === server.port ? 'client' : undefined;
      if (side === counted && data instanceof Uint8Array && data.length >= BULK_PACKET) {
        packetWrites++;
        packetBuffers.add(data.buffer);
      }
      return (originalWrite as (...args: unknown[]) => boolean).call(this, data, ...rest);
    } as typeof Socket.prototype.write;
  });
  after(async () => {
    Socket.prototype.write = originalWrite;
    await server?.close();
  });

  for (const { name, algorithms } of CIPHERS) {
    it(`${name}: a download read slowly arrives intact, over a bounded set of buffers`, async () => {
      reset('server');
      const conn = await connectSsh2(server.port, { username: TEST_USER, privateKey: clientKey().privateKey, algorithms });
      try {
        const received = await readSlowly(conn, '/big.bin');
        assert.equal(received.length, FILE_SIZE);
        assert.equal(sha256(received), sha256(content));
      } finally {
        await conn.close();
      }
      assertBounded();
    });
  }

  it('ssh2 client side (what the SFTP backend uploads with): an upload arrives intact, over a bounded set of buffers', async () => {
    reset('client');
    const conn = await connectSsh2(server.port, { username: TEST_USER, privateKey: clientKey().privateKey });
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = conn.sftp.createWriteStream('/uploaded.bin');
        stream.on('close', resolve);
        stream.on('error', reject);
        for (let offset = 0; offset < FILE_SIZE; offset += 1024 * 1024) stream.write(content.subarray(offset, offset + 1024 * 1024));
        stream.end();
      });
    } finally {
      await conn.close();
    }
    assert.equal(sha256(await fs.readFile('/uploaded.bin')), sha256(content));
    assertBounded();
  });
});
