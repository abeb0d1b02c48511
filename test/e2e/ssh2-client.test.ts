import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import { ReadOnlyFS } from '../../src/fs/wrappers/readonly.js';
import { StatusCode } from '../../src/sftp/protocol/constants.js';
import { clientKey } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { connectSsh2, type Ssh2Connection } from '../helpers/ssh2Client.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

const skip = requireTool('ssh-keygen');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const shuffled = <T>(items: T[]) => items.map((item) => [Math.random(), item] as const).sort(([a], [b]) => a - b).map(([, item]) => item);

/** The SFTP status code ssh2 puts on a failed request's error. */
async function statusOf(operation: Promise<unknown>): Promise<number> {
  const error = await operation.then(() => assert.fail('expected the request to fail'), (error: { code?: number }) => error);
  return error.code!;
}

describe('ssh2 client against the server', { skip }, () => {
  let server: TestServer;
  let fs: MemoryFS;
  let conn: Ssh2Connection;
  let local: ReturnType<typeof makeTempDir>;

  before(async () => {
    local = makeTempDir('sftp-expose-ssh2-');
    fs = new MemoryFS();
    server = await startTestServer({ fs });
    conn = await connectSsh2(server.port, { username: TEST_USER, privateKey: clientKey().privateKey });
  });
  after(async () => {
    await conn?.close();
    await server?.close();
    local?.remove();
  });

  it('takes 256 pipelined writes at shuffled offsets, then serves 256 pipelined reads', async () => {
    const block = 16 * 1024;
    const expected = randomBytes(256 * block);
    const handle = await conn.p.open('/random-access.bin', 'w');
    // Every write is on the wire before the first reply is awaited.
    await Promise.all(shuffled([...Array(256).keys()]).map((i) => conn.p.write(handle, expected.subarray(i * block, (i + 1) * block), i * block)));
    await conn.p.close(handle);
    assert.equal(sha256(await fs.readFile('/random-access.bin')), sha256(expected));

    const reader = await conn.p.open('/random-access.bin', 'r');
    const got = Buffer.alloc(expected.length);
    await Promise.all(shuffled([...Array(256).keys()]).map(async (i) => (await conn.p.read(reader, block, i * block)).copy(got, i * block)));
    await conn.p.close(reader);
    assert.ok(got.equals(expected), 'pipelined reads return what was written');
  });

  it('lets the client send a 32 KiB WRITE in one SSH packet (its channel packet size covers the WRITE header)', async () => {
    const channel = await new Promise<{ outgoing: { packetSize: number }; end(): void }>((resolve, reject) =>
      conn.client.subsys('sftp', (error, stream) => (error ? reject(error) : resolve(stream as never))),
    );
    try {
      // A WRITE of 32 KiB: length, type, id, 4-byte handle string, offset, data string.
      const write32k = 4 + 1 + 4 + (4 + 4) + 8 + 4 + 32 * 1024;
      assert.ok(channel.outgoing.packetSize >= write32k, `packet size ${channel.outgoing.packetSize}`);
      // And within what ssh2's transport accepts as one SSH packet (35,000 bytes with its headers and padding).
      assert.ok(channel.outgoing.packetSize + 9 + 5 + 255 + 16 <= 35_000);
    } finally {
      channel.end();
    }
  });

  it('moves a 10 MiB file each way with fastPut and fastGet', async () => {
    const content = randomBytes(10 * 1024 * 1024);
    writeFileSync(join(local.path, 'up.bin'), content);
    const started = process.hrtime.bigint();
    await conn.p.fastPut(join(local.path, 'up.bin'), '/fast.bin', { concurrency: 64, chunkSize: 32 * 1024 });
    await conn.p.fastGet('/fast.bin', join(local.path, 'down.bin'), { concurrency: 64, chunkSize: 32 * 1024 });
    process.stderr.write(`# fastPut+fastGet of 10 MiB took ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s\n`);
    assert.equal(sha256(await fs.readFile('/fast.bin')), sha256(content));
    assert.equal(sha256(readFileSync(join(local.path, 'down.bin'))), sha256(content));
  });

  it('two sessions downloading at once with 255 KiB reads get their own bytes (reply buffers are reused)', { timeout: 60_000 }, async () => {
    const second = await connectSsh2(server.port, { username: TEST_USER, privateKey: clientKey().privateKey });
    try {
      const contents = [randomBytes(12 * 1024 * 1024), randomBytes(12 * 1024 * 1024)];
      await Promise.all(contents.map((content, i) => fs.writeFile(`/pooled-${i}.bin`, content)));
      // Dozens of large READs in flight per session: more than ssh2's channel window, so replies also wait for it.
      const options = { concurrency: 32, chunkSize: 255 * 1024 };
      await Promise.all([conn, second].map((c, i) => c.p.fastGet(`/pooled-${i}.bin`, join(local.path, `pooled-${i}.bin`), options)));
      contents.forEach((content, i) => assert.equal(sha256(readFileSync(join(local.path, `pooled-${i}.bin`))), sha256(content), `download ${i}`));
    } finally {
      await second.close();
    }
  });

  it('lists a directory of 3,000 entries, each once', async () => {
    await fs.mkdir('/crowd');
    const names = Array.from({ length: 3000 }, (_, i) => `member ${i}`);
    for (const name of names) await fs.writeFile(`/crowd/${name}`, name);
    const listed = await conn.p.readdir('/crowd');
    assert.equal(listed.length, 3000);
    assert.deepEqual(listed.map((entry) => entry.filename).sort(), [...names].sort());
    const sample = listed.find((entry) => entry.filename === 'member 42')!;
    assert.equal(sample.attrs.size, 'member 42'.length);
    assert.ok(sample.longname.endsWith(' member 42'));
  });

  it('answers stat, lstat, setstat and realpath', async () => {
    await fs.mkdir('/attrs');
    await fs.writeFile('/attrs/file', 'twelve bytes');
    await fs.symlink('file', '/attrs/link');
    const stat = await conn.p.stat('/attrs/link');
    assert.ok(stat.isFile());
    assert.equal(stat.size, 12);
    assert.ok((await conn.p.lstat('/attrs/link')).isSymbolicLink());
    assert.ok((await conn.p.stat('/attrs')).isDirectory());

    await conn.p.setstat('/attrs/file', { mode: 0o640, mtime: 1_600_000_000, atime: 1_600_000_001 });
    const changed = await fs.stat('/attrs/file');
    assert.equal(changed.permissions, 0o640);
    assert.equal(changed.mtime, 1_600_000_000);
    const seen = await conn.p.stat('/attrs/file');
    assert.equal(seen.mode & 0o7777, 0o640);
    assert.equal(seen.mtime, 1_600_000_000);

    assert.equal(await conn.p.realpath('.'), '/');
    assert.equal(await conn.p.realpath('/attrs/../attrs/./link'), '/attrs/file');
  });

  it('makes a symlink with ssh2\'s own argument order (link first, to a server it does not take for OpenSSH)', async () => {
    await fs.writeFile('/symlink-target.txt', 'pointed at');
    await new Promise<void>((resolve, reject) => conn.sftp.symlink('/symlink-target.txt', '/made-by-ssh2', (error) => (error ? reject(error) : resolve())));
    assert.equal(await fs.readlink('/made-by-ssh2'), '/symlink-target.txt');
    assert.equal((await conn.p.readFile('/made-by-ssh2')).toString(), 'pointed at');
  });

  it('refuses a rename onto an existing file, and leaves both files alone', async () => {
    await fs.writeFile('/from', 'from');
    await fs.writeFile('/to', 'to');
    assert.equal(await statusOf(conn.p.rename('/from', '/to')), StatusCode.FAILURE);
    assert.equal((await fs.readFile('/to')).toString(), 'to');
    assert.equal((await fs.readFile('/from')).toString(), 'from');
    await conn.p.rename('/from', '/renamed');
    assert.equal(await fs.exists('/from'), false);
  });

  it('reports NO_SUCH_FILE (2) for missing paths', async () => {
    assert.equal(await statusOf(conn.p.stat('/nowhere')), StatusCode.NO_SUCH_FILE);
    assert.equal(await statusOf(conn.p.open('/nowhere/file', 'r')), StatusCode.NO_SUCH_FILE);
    assert.equal(await statusOf(conn.p.unlink('/nowhere')), StatusCode.NO_SUCH_FILE);
  });

  it('reports PERMISSION_DENIED (3) when the FS refuses', async () => {
    const inner = new MemoryFS();
    await inner.writeFile('/existing', 'keep');
    const readOnly = await startTestServer({ fs: new ReadOnlyFS(inner) });
    const client = await connectSsh2(readOnly.port, { username: TEST_USER, privateKey: clientKey().privateKey });
    try {
      assert.equal(await statusOf(client.p.writeFile('/new', 'x')), StatusCode.PERMISSION_DENIED);
      assert.equal(await statusOf(client.p.unlink('/existing')), StatusCode.PERMISSION_DENIED);
      assert.equal(await statusOf(client.p.mkdir('/dir')), StatusCode.PERMISSION_DENIED);
      assert.equal((await client.p.readFile('/existing')).toString(), 'keep');
    } finally {
      await client.close();
      await readOnly.close();
    }
  });
});
