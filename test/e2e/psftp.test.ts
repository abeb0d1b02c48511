import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalFS } from '../../src/backends/local.js';
import { testHostKeyPath } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { runProcess, type ProcessResult } from '../helpers/runProcess.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

/*
 * PuTTY's psftp (the client of PuTTY and of the many Windows tools built on
 * its code) against our server over a real folder: its own SSH and SFTP code,
 * batch scripts that stop at the first failed command, and resumed transfers
 * (reput, reget) that continue from the size the other side already has.
 */

const skip = requireTool('psftp');
const PASSWORD = 'psftp-test-password';

describe('psftp against our server', { skip }, () => {
  const root = makeTempDir('sftp-expose-psftp-root-');
  const local = makeTempDir('sftp-expose-psftp-local-');
  let server: TestServer;
  let hostKeyFingerprint: string;

  before(async () => {
    server = await startTestServer({ fs: new LocalFS({ root: root.path }), password: PASSWORD });
    // psftp -batch accepts no unknown host key: it is given the test key's fingerprint instead.
    hostKeyFingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${testHostKeyPath()}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  });
  after(async () => {
    await server?.close();
    root.remove();
    local.remove();
  });

  /** Runs a psftp batch script; psftp stops at the first command that fails and exits non-zero. */
  function psftp(commands: string[]): Promise<ProcessResult> {
    const script = join(local.path, 'script.txt');
    writeFileSync(script, `${commands.join('\n')}\n`);
    return runProcess('psftp', ['-batch', '-hostkey', hostKeyFingerprint, '-pw', PASSWORD, '-P', String(server.port), '-b', script, `${TEST_USER}@127.0.0.1`], { timeoutMs: 60_000 });
  }
  const succeeded = (result: ProcessResult) => assert.equal(result.code, 0, `psftp failed (${result.code}): ${result.stdout}\n${result.stderr}`);
  const localPath = (name: string) => join(local.path, name);

  it('uploads, moves, lists, downloads and chmods a 3 MiB file byte for byte', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 5);
    writeFileSync(localPath('up.bin'), data);
    const result = await psftp([`put ${localPath('up.bin')} /up.bin`, 'mkdir /dir', 'mv /up.bin /dir/moved.bin', 'ls /dir', `get /dir/moved.bin ${localPath('down.bin')}`, 'chmod 600 /dir/moved.bin']);
    succeeded(result);
    assert.match(result.stdout, new RegExp(`^-rw-r--r-- .* ${data.length} .* moved\\.bin$`, 'm'), 'ls shows the file in ls -l form');
    assert.ok(readFileSync(join(root.path, 'dir/moved.bin')).equals(data), 'the server stored what was sent');
    assert.ok(readFileSync(localPath('down.bin')).equals(data), 'the download is what was stored');
    assert.equal(statSync(join(root.path, 'dir/moved.bin')).mode & 0o777, 0o600);
  });

  it('resumes an upload and a download from where each stopped', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 333);
    writeFileSync(join(root.path, 'partial-up.bin'), data.subarray(0, 700_000));
    writeFileSync(localPath('whole.bin'), data);
    writeFileSync(localPath('partial-down.bin'), data.subarray(0, 1_000_001));
    const result = await psftp([`reput ${localPath('whole.bin')} /partial-up.bin`, `reget /partial-up.bin ${localPath('partial-down.bin')}`]);
    succeeded(result);
    assert.match(result.stdout, /reput: restarting at file position 700000/);
    assert.match(result.stdout, /reget: restarting at file position 1000001/);
    assert.ok(readFileSync(join(root.path, 'partial-up.bin')).equals(data), 'reput appended the rest');
    assert.ok(readFileSync(localPath('partial-down.bin')).equals(data), 'reget fetched the rest');
  });

  it('reports a missing file and a wrong password', async () => {
    const missing = await psftp(['rm /no-such-file']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stdout + missing.stderr, /rm \/no-such-file: no such file or directory/);
    const wrong = await runProcess('psftp', ['-batch', '-hostkey', hostKeyFingerprint, '-pw', 'wrong', '-P', String(server.port), '-b', '/dev/null', `${TEST_USER}@127.0.0.1`], { timeoutMs: 60_000 });
    assert.notEqual(wrong.code, 0, 'a wrong password does not log in');
    assert.match(wrong.stderr, /denied|fail/i, wrong.stderr);
  });
});
