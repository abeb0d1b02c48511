import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import { clientKey } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { connectSsh2, type Ssh2Connection } from '../helpers/ssh2Client.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

const skip = requireTool('ssh-keygen');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const FILE_SIZE = 16 * 1024 * 1024;
/** What ssh2 sends channel data in: the client's maximum packet, 32 KiB. */
const BULK_PACKET = 16 * 1024;

/**
 * The ssh2 patch (patches/ssh2+1.17.0.patch) reuses the buffers of outgoing
 * bulk packets once the socket has written them. A download must still be
 * byte-identical when the socket cannot keep up (libuv holds buffers until
 * their write completes), and must not take a new buffer per packet.
 */
describe('outgoing SSH packet buffers are reused once written', { skip }, () => {
  let server: TestServer;
  let conn: Ssh2Connection;
  const content = randomBytes(FILE_SIZE);
  /** The ArrayBuffers under the server's bulk packet writes, and how many such writes there were. */
  const packetBuffers = new Set<ArrayBufferLike>();
  let packetWrites = 0;
  const originalWrite = Socket.prototype.write;

  before(async () => {
    const fs = new MemoryFS();
    await fs.writeFile('/big.bin', content);
    server = await startTestServer({ fs });
    conn = await connectSsh2(server.port, { username: TEST_USER, privateKey: clientKey().privateKey });
    Socket.prototype.write = function (this: Socket, data: unknown, ...rest: unknown[]) {
      if (this.localPort === server.port && Buffer.isBuffer(data) && data.length >= BULK_PACKET) {
        packetWrites++;
        packetBuffers.add(data.buffer);
      }
      return (originalWrite as (...args: unknown[]) => boolean).call(this, data, ...rest);
    } as typeof Socket.prototype.write;
  });
  after(async () => {
    Socket.prototype.write = originalWrite;
    await conn?.close();
    await server?.close();
  });

  it('a download read slowly (the socket backs up) arrives intact, over a bounded set of buffers', async () => {
    const chunks: Buffer[] = [];
    let received = 0;
    let nextPause = 1024 * 1024;
    await new Promise<void>((resolve, reject) => {
      const stream = conn.sftp.createReadStream('/big.bin', { highWaterMark: 64 * 1024 });
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received < nextPause) return;
        // Stop reading for a while: the server's socket fills and its writes complete later.
        nextPause += 1024 * 1024;
        stream.pause();
        setTimeout(() => stream.resume(), 30);
      });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    assert.equal(received, FILE_SIZE);
    assert.equal(sha256(Buffer.concat(chunks)), sha256(content));
    assert.ok(packetWrites >= FILE_SIZE / (32 * 1024), `expected a bulk packet per 32 KiB, saw ${packetWrites} writes`);
    // One buffer per packet without reuse; with it, about what the SSH window keeps in flight (2 MiB) plus the free list.
    assert.ok(packetBuffers.size <= 200, `${packetBuffers.size} buffers for ${packetWrites} packets`);
  });
});
