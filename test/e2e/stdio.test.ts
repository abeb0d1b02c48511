import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { reportedPackages, REPORT_PACKAGES } from '../helpers/packageReport.js';
import { requireTool } from '../helpers/requireTool.js';
import { makeTempDir } from '../helpers/tempDir.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const skip = requireTool('sftp');

/** Runs OpenSSH's sftp client on a server program over stdin/stdout (`sftp -D`), no SSH involved. */
function sftpDirect(server: string, commands: string[], cwd: string) {
  const result = spawnSync('sftp', ['-b', '-', '-D', server], { input: commands.join('\n') + '\n', cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('--stdio: the same Session over stdin/stdout, driven by sftp -D', { skip }, () => {
  let temp: ReturnType<typeof makeTempDir>;
  before(() => {
    temp = makeTempDir();
    mkdirSync(join(temp.path, 'served', 'sub'), { recursive: true });
    mkdirSync(join(temp.path, 'client'));
  });
  after(() => temp.remove());

  it('puts and gets a 5 MiB file into a local folder backend, byte for byte', () => {
    const data = randomBytes(5 * 1024 * 1024);
    writeFileSync(join(temp.path, 'client', 'up.bin'), data);
    const server = `node ${CLI} serve --stdio ${join(temp.path, 'served')}`;
    const run = sftpDirect(server, ['put up.bin sub/up.bin', 'get sub/up.bin down.bin', 'ls -l sub'], join(temp.path, 'client'));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(sha256(readFileSync(join(temp.path, 'served', 'sub', 'up.bin'))), sha256(data));
    assert.equal(sha256(readFileSync(join(temp.path, 'client', 'down.bin'))), sha256(data));
    assert.match(run.stdout, /-rw-r--r-- .* 5242880 .* sub\/up\.bin/);
  });

  it('keeps the jail: .. from the root stays at the root', () => {
    writeFileSync(join(temp.path, 'outside.txt'), 'secret');
    const server = `node ${CLI} serve --stdio ${join(temp.path, 'served')}`;
    const run = sftpDirect(server, ['cd ..', 'pwd', '-get outside.txt'], join(temp.path, 'client'));
    assert.match(run.stdout, /Remote working directory: \/\n/);
    assert.match(run.stderr, /not found|No such file/);
  });

  it('with BACKEND / starts in the working directory, as OpenSSH\'s sftp-server does', () => {
    writeFileSync(join(temp.path, 'served', 'here.txt'), 'from the working directory');
    const server = `node ${CLI} serve --stdio /`;
    const run = sftpDirect(server, ['pwd', 'get here.txt got.txt'], join(temp.path, 'served'));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`Remote working directory: ${join(temp.path, 'served')}\\n`));
    assert.equal(readFileSync(join(temp.path, 'served', 'got.txt'), 'utf8'), 'from the working directory');
  });

  it('serves an in-memory filesystem with no backend argument', () => {
    const run = sftpDirect(`node ${CLI} serve --stdio`, ['mkdir d', 'ls -l'], join(temp.path, 'client'));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^d.* d$/m);
  });
});

describe('--stdio exit status: what sshd passes on as the channel\'s exit-status', () => {
  const serve = (input: Buffer) => spawnSync(process.execPath, [CLI, 'serve', '--stdio'], { input, timeout: 60_000 });
  const packet = (...bytes: number[]) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, Buffer.from(bytes)]);
  };
  const init = packet(1, 0, 0, 0, 3);

  it('exits 0 when the client closes its side after INIT', () => {
    const run = serve(init);
    assert.equal(run.status, 0, run.stderr.toString());
    assert.equal(run.stdout[4], 2, 'answered INIT with VERSION');
  });

  it('exits non-zero after a request before INIT, as OpenSSH\'s sftp-server does', () => {
    const run = serve(packet(17, 0, 0, 0, 1, 0, 0, 0, 1, 0x2f)); // STAT "/"
    assert.notEqual(run.status, 0);
  });

  it('exits non-zero after a packet longer than the limit', () => {
    const run = serve(Buffer.concat([init, Buffer.from([0x7f, 0, 0, 0, 3])]));
    assert.notEqual(run.status, 0);
  });
});

describe('--stdio start-up', () => {
  it('loads no SSH server, metrics, config parser or pretty printer: sshd starts one such process per login', () => {
    const temp = makeTempDir();
    try {
      const run = spawnSync(process.execPath, ['--import', REPORT_PACKAGES, CLI, 'serve', '--stdio', temp.path], { input: '', encoding: 'utf8', timeout: 60_000 });
      const packages = reportedPackages(run.stderr);
      assert.ok(packages.includes('fs-extra'), `the report sees what is loaded (LocalFS's fs-extra): ${packages.join(', ')}`);
      for (const heavy of ['ssh2', 'prom-client', '@opentelemetry/api', 'yaml', 'pino-pretty', '@aws-sdk/client-s3', 'webdav']) {
        assert.ok(!packages.includes(heavy), `${heavy} loaded for a --stdio session`);
      }
    } finally {
      temp.remove();
    }
  });
});
