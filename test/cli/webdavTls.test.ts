/**
 * `sftp-expose serve webdav+https://...` against a WebDAV server speaking
 * HTTPS with a self-signed certificate (rclone serve webdav with the test
 * certificate): trusted only through `--ca-cert`, as for S3 endpoints.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientKey, testHostKeyPath } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { runSftpBatch } from '../helpers/sftpBatch.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { TEST_TLS_FILES } from '../helpers/testTls.js';
import { startRcloneWebDAVServer, type RunningWebDAVServer } from '../helpers/webdavServer.js';
import { runCLI, startServe, type RunningCLI } from './cliProcess.js';

const skip = requireTool('sftp') || requireTool('rclone');

describe('sftp-expose serve webdav+https:// with a private CA (--ca-cert)', { skip }, () => {
  const served = makeTempDir('sftp-expose-davtls-served-');
  const home = makeTempDir('sftp-expose-davtls-cli-');
  let dav: RunningWebDAVServer;
  let backend: string;

  before(async () => {
    dav = await startRcloneWebDAVServer(served.path, { tls: true });
    assert.match(dav.url, /^https:/);
    backend = dav.url.replace(/^https:/, 'webdav+https:');
  });
  after(async () => {
    await dav?.stop();
    served.remove();
    home.remove();
  });

  it('with --ca-cert OpenSSH sftp puts and gets a file through the HTTPS server, byte for byte', async () => {
    const key = clientKey();
    let cli: RunningCLI | undefined;
    try {
      cli = await startServe([backend, '--ca-cert', TEST_TLS_FILES.cert, '--key', testHostKeyPath(), '--user', 'tester', '--authorized-keys', `${key.path}.pub`], home.path);
      const data = randomBytes(3 * 1024 * 1024 + 11);
      writeFileSync(join(home.path, 'up.bin'), data);
      const result = await runSftpBatch(cli.port, key.path, ['put up.bin /up.bin', 'get /up.bin down.bin'], { cwd: home.path, user: 'tester' });
      assert.equal(result.code, 0, `sftp failed: ${result.stderr}\nserver:\n${cli.stderr()}`);
      assert.ok(readFileSync(join(served.path, 'up.bin')).equals(data), 'the WebDAV server stored the uploaded bytes');
      assert.ok(readFileSync(join(home.path, 'down.bin')).equals(data), 'the download holds the uploaded bytes');
    } finally {
      await cli?.stop();
    }
  });

  it('without --ca-cert the server is refused at start, with a message pointing to --ca-cert', async () => {
    const result = await runCLI(['serve', '--addr', '127.0.0.1:0', backend, '--no-auth'], home.path);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /cannot use WebDAV backend .*certificate is not trusted.*--ca-cert FILE/);
  });
});
