import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalFS } from '../../src/backends/local.js';
import { MemoryFS } from '../../src/backends/memory.js';
import type { FS } from '../../src/fs/FS.js';
import { requireTool } from '../helpers/requireTool.js';
import { runSftpBatch, type SftpBatchResult } from '../helpers/sftpBatch.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

const skip = requireTool('sftp') || requireTool('ssh-keygen');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const backends: Array<{ name: string; make(): { fs: FS; cleanup(): void } }> = [
  { name: 'MemoryFS', make: () => ({ fs: new MemoryFS(), cleanup: () => {} }) },
  {
    name: 'LocalFS',
    make: () => {
      const root = makeTempDir('sftp-expose-localfs-');
      return { fs: new LocalFS({ root: root.path }), cleanup: root.remove };
    },
  },
];

function assertSucceeded(result: SftpBatchResult): void {
  assert.equal(result.code, 0, `sftp failed (${result.timedOut ? 'timed out' : `code ${result.code}`}): ${result.stderr}`);
}

for (const backend of backends) {
  describe(`OpenSSH sftp client against ${backend.name}`, { skip }, () => {
    let server: TestServer;
    let fs: FS;
    let cleanupBackend: () => void;
    let local: ReturnType<typeof makeTempDir>;
    const batch = (commands: string[]) => runSftpBatch(server.port, server.clientKeyPath, commands, { cwd: local.path });

    before(async () => {
      local = makeTempDir('sftp-expose-client-');
      ({ fs, cleanup: cleanupBackend } = backend.make());
      server = await startTestServer({ fs });
    });
    after(async () => {
      await server?.close();
      cleanupBackend?.();
      local?.remove();
    });

    it('puts and gets a 20 MiB random file intact', async () => {
      const content = randomBytes(20 * 1024 * 1024);
      writeFileSync(join(local.path, 'big.bin'), content);
      const started = process.hrtime.bigint();
      assertSucceeded(await batch(['put big.bin /big.bin', 'get /big.bin big-back.bin']));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      process.stderr.write(`# ${backend.name}: put+get of 20 MiB with OpenSSH sftp took ${seconds.toFixed(2)} s\n`);
      assert.equal(sha256(await fs.readFile('/big.bin')), sha256(content), 'the server stored what was put');
      assert.equal(sha256(readFileSync(join(local.path, 'big-back.bin'))), sha256(content), 'get returned what was put');
    });

    it('lists with ls -l in the ls layout', async () => {
      await fs.mkdir('/listing');
      await fs.writeFile('/listing/five.txt', '12345');
      await fs.mkdir('/listing/sub');
      const result = await batch(['ls -l /listing']);
      assertSucceeded(result);
      const lines = result.stdout.split('\n').filter((line) => !line.startsWith('sftp>') && line.trim() !== '');
      assert.equal(lines.length, 2, result.stdout);
      const layout = (type: string, size: string, name: string) =>
        new RegExp(`^${type}[rwx-]{9}\\s+\\S+\\s+\\S+\\s+\\S+\\s+${size}\\s+[A-Z][a-z]{2}\\s+\\d{1,2}\\s+(\\d\\d:\\d\\d|\\d{4})\\s+${name}$`);
      assert.match(lines.find((line) => line.endsWith('five.txt'))!, layout('-', '5', '/listing/five.txt'));
      assert.match(lines.find((line) => line.endsWith('sub'))!, layout('d', '\\d+', '/listing/sub'));
    });

    it('makes, renames and removes files and directories', async () => {
      writeFileSync(join(local.path, 'small.txt'), 'small');
      assertSucceeded(await batch([
        'mkdir /tree', 'mkdir /tree/gone', 'put small.txt /tree/a.txt',
        'rename /tree/a.txt /tree/b.txt', 'rmdir /tree/gone', 'put small.txt /tree/c.txt', 'rm /tree/c.txt',
      ]));
      assert.deepEqual((await fs.listdirAll('/tree')).map((entry) => entry.name), ['b.txt']);
      assert.equal((await fs.readFile('/tree/b.txt')).toString(), 'small');
    });

    it('makes a symlink with ln -s, and ls -l shows it as a link', async () => {
      await fs.mkdir('/links');
      await fs.writeFile('/links/target.txt', 'pointed at');
      const result = await batch(['ln -s target.txt /links/link', 'ls -l /links']);
      assertSucceeded(result);
      assert.equal(await fs.readlink('/links/link'), 'target.txt');
      assert.match(result.stdout, /^l[rwx-]{9} .*\/links\/link$/m);
      assert.equal((await fs.readFile('/links/link')).toString(), 'pointed at');
    });

    it('changes the mode with chmod', async () => {
      await fs.writeFile('/private.txt', 'secret');
      const result = await batch(['chmod 600 /private.txt', 'ls -l /private.txt']);
      assertSucceeded(result);
      assert.equal((await fs.stat('/private.txt')).permissions, 0o600);
      assert.match(result.stdout, /^-rw------- .*private\.txt$/m);
    });

    it('fails a put into a missing directory with a clear message', async () => {
      writeFileSync(join(local.path, 'orphan.txt'), 'x');
      const result = await batch(['put orphan.txt /no/such/dir/orphan.txt']);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /no such file/i);
      assert.equal(await fs.exists('/no'), false);
    });

    it('fails a get of a missing file', async () => {
      const result = await batch(['get /missing.bin missing.bin']);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /not found|no such file/i);
    });

    it('handles names with spaces', async () => {
      writeFileSync(join(local.path, 'my file.txt'), 'spaced out');
      const result = await batch(['mkdir "/dir with space"', 'put "my file.txt" "/dir with space/my file.txt"', 'ls "/dir with space"', 'get "/dir with space/my file.txt" "back with space.txt"']);
      assertSucceeded(result);
      assert.equal((await fs.readFile('/dir with space/my file.txt')).toString(), 'spaced out');
      assert.equal(readFileSync(join(local.path, 'back with space.txt'), 'utf8'), 'spaced out');
      assert.match(result.stdout, /my file\.txt/);
    });
  });
}
