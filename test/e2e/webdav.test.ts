import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebDAVFS } from '../../src/backends/webdav/index.js';
import { PermissionDenied, ResourceNotFound } from '../../src/fs/errors.js';
import { parseOpenFlags } from '../../src/fs/types.js';
import { requireTool } from '../helpers/requireTool.js';
import { runSftpBatch } from '../helpers/sftpBatch.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { rcloneMissing, startNpmWebDAVServer, startRcloneWebDAVServer, type RunningWebDAVServer } from '../helpers/webdavServer.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const sftpSkip = requireTool('sftp') || requireTool('ssh-keygen');

interface ServerKind {
  name: string;
  skip: string | false;
  start(directory: string, options?: { readOnly?: boolean }): Promise<RunningWebDAVServer>;
  encodeBackslash?: boolean;
  /** What a read-only server answers a PUT with, as FSError: 403 for webdav-server, 404 from rclone --read-only. */
  refusedPut: new (...args: never[]) => Error;
}

const servers: ServerKind[] = [
  { name: 'npm webdav-server (on disk)', skip: false, start: (directory, options) => startNpmWebDAVServer({ directory, ...options }), encodeBackslash: true, refusedPut: PermissionDenied },
  { name: 'rclone serve webdav', skip: rcloneMissing(), start: (directory, options) => startRcloneWebDAVServer(directory, options), refusedPut: ResourceNotFound },
];

for (const kind of servers) {
  describe(`OpenSSH sftp through sftp-expose to ${kind.name}`, { skip: sftpSkip || kind.skip }, () => {
    let davDir: ReturnType<typeof makeTempDir>;
    let local: ReturnType<typeof makeTempDir>;
    let dav: RunningWebDAVServer;
    let fs: WebDAVFS;
    let server: TestServer;

    before(async () => {
      davDir = makeTempDir('sftp-expose-webdav-e2e-');
      local = makeTempDir('sftp-expose-webdav-client-');
      dav = await kind.start(davDir.path);
      fs = new WebDAVFS({ url: dav.url, encodeBackslash: kind.encodeBackslash });
      server = await startTestServer({ fs });
    });
    after(async () => {
      await server?.close();
      await fs?.close();
      await dav?.stop();
      davDir?.remove();
      local?.remove();
    });

    it('puts and gets a 50 MiB random file: the WebDAV server stores exactly those bytes', async () => {
      const content = randomBytes(50 * 1024 * 1024);
      writeFileSync(join(local.path, 'big.bin'), content);
      const started = process.hrtime.bigint();
      const put = await runSftpBatch(server.port, server.clientKeyPath, ['put big.bin /big.bin'], { cwd: local.path, timeoutMs: 180_000 });
      const putSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      assert.equal(put.code, 0, put.stderr);
      assert.equal(sha256(readFileSync(join(davDir.path, 'big.bin'))), sha256(content), 'the file on the WebDAV server side');
      const gotAt = process.hrtime.bigint();
      const get = await runSftpBatch(server.port, server.clientKeyPath, ['get /big.bin back.bin'], { cwd: local.path, timeoutMs: 180_000 });
      const getSeconds = Number(process.hrtime.bigint() - gotAt) / 1e9;
      assert.equal(get.code, 0, get.stderr);
      assert.equal(sha256(readFileSync(join(local.path, 'back.bin'))), sha256(content), 'what get returned');
      process.stderr.write(`# ${kind.name}: 50 MiB put ${putSeconds.toFixed(2)} s (${(50 / putSeconds).toFixed(1)} MiB/s), get ${getSeconds.toFixed(2)} s (${(50 / getSeconds).toFixed(1)} MiB/s)\n`);
    });

    it('mkdir, rename, ls and rm by OpenSSH sftp land on the WebDAV server', async () => {
      writeFileSync(join(local.path, 'small.txt'), 'small');
      const result = await runSftpBatch(server.port, server.clientKeyPath, [
        'mkdir /tree', 'put small.txt /tree/a.txt', 'rename /tree/a.txt /tree/b.txt', 'put small.txt /tree/c.txt', 'rm /tree/c.txt', 'ls -l /tree',
      ], { cwd: local.path });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^-rw-r--r-- .* 5 .*\/tree\/b\.txt$/m);
      assert.equal(readFileSync(join(davDir.path, 'tree', 'b.txt'), 'utf8'), 'small');
      assert.deepEqual((await fs.listdirAll('/tree')).map((entry) => entry.name), ['b.txt']);
    });

    it('a PUT the server refuses is reported by close (a read-only server over the same files)', async () => {
      const readOnly = await kind.start(davDir.path, { readOnly: true });
      const refusing = new WebDAVFS({ url: readOnly.url });
      try {
        assert.equal(readFileSync(join(davDir.path, 'tree', 'b.txt'), 'utf8'), 'small');
        const handle = await refusing.open('/tree/b.txt', parseOpenFlags('w'));
        await handle.write(0, Buffer.from('overwritten?'));
        await assert.rejects(handle.close(), kind.refusedPut);
        assert.equal(readFileSync(join(davDir.path, 'tree', 'b.txt'), 'utf8'), 'small');
      } finally {
        await refusing.close();
        await readOnly.stop();
      }
    });

    it('abort cancels the PUT; the partial file the server kept is deleted when it shows up in time', async () => {
      const handle = await fs.open('/partial.bin', parseOpenFlags('w'));
      for (let i = 0; i < 16; i++) await handle.write(i * 256 * 1024, randomBytes(256 * 1024));
      await handle.abort!();
      const stats = await fs.stat('/partial.bin').catch(() => undefined);
      process.stderr.write(`# ${kind.name}: after abort the server ${stats ? `still shows a partial file of ${stats.size} bytes` : 'has no file'}\n`);
      if (stats) assert.ok(stats.size < 4 * 1024 * 1024, 'never the whole upload');
    });
  });
}
