import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalFS } from '../../src/backends/local.js';
import { missing, requireTool } from '../helpers/requireTool.js';
import { runProcess, type ProcessResult } from '../helpers/runProcess.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

/*
 * curl's sftp:// (libssh2, the SFTP client library under curl, PHP's ssh2 and
 * many embedded tools) against our server over a real folder. libssh2 is a
 * client of its own, not OpenSSH's: its own key exchange and cipher choice,
 * its own pipelining, and quote commands (`-Q`) that each map to one request.
 */

const skip = curlSftpSkipReason();
const PASSWORD = 'libssh2-test-password';
const MiB = 1024 * 1024;

/** curl must be built with libssh2 (Debian's is): a curl without sftp:// cannot run these tests. */
function curlSftpSkipReason(): string | false {
  const noCurl = requireTool('curl');
  if (noCurl) return noCurl;
  if (/^Protocols:.*\bsftp\b/m.test(spawnSync('curl', ['-V'], { encoding: 'utf8' }).stdout)) return false;
  return missing('this curl has no sftp:// support (libssh2)');
}

describe('curl (libssh2) against our server', { skip }, () => {
  const root = makeTempDir('sftp-expose-curl-root-');
  const local = makeTempDir('sftp-expose-curl-local-');
  let server: TestServer;
  let url: string;

  before(async () => {
    server = await startTestServer({ fs: new LocalFS({ root: root.path }), password: PASSWORD });
    url = `sftp://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server?.close();
    root.remove();
    local.remove();
  });

  /** curl with our password, no host-key check (libssh2 reads only ~/.ssh/known_hosts), failing on errors. */
  const curl = (args: string[], password = PASSWORD): Promise<ProcessResult> =>
    runProcess('curl', ['--silent', '--show-error', '--insecure', '--user', `${TEST_USER}:${password}`, ...args], { timeoutMs: 60_000 });
  const succeeded = (result: ProcessResult) => assert.equal(result.code, 0, `curl failed (${result.code}): ${result.stderr}`);
  const localFile = (name: string, data: Buffer) => {
    const path = join(local.path, name);
    writeFileSync(path, data);
    return path;
  };

  it('uploads and downloads a 6 MiB file byte for byte', async () => {
    const data = randomBytes(6 * MiB);
    succeeded(await curl(['--upload-file', localFile('up.bin', data), `${url}/up.bin`]));
    assert.ok(readFileSync(join(root.path, 'up.bin')).equals(data), 'the server stored what was sent');
    const downloaded = join(local.path, 'down.bin');
    succeeded(await curl(['--output', downloaded, `${url}/up.bin`]));
    assert.ok(readFileSync(downloaded).equals(data), 'the download is what was stored');
  });

  it('resumes an upload where the stored part ends, and downloads a byte range', async () => {
    const data = randomBytes(3 * MiB + 123);
    succeeded(await curl(['--upload-file', localFile('part.bin', data.subarray(0, MiB)), `${url}/resumed.bin`]));
    // -C - asks the server for the stored size, then writes the rest from there.
    succeeded(await curl(['--continue-at', '-', '--upload-file', localFile('whole.bin', data), `${url}/resumed.bin`]));
    assert.ok(readFileSync(join(root.path, 'resumed.bin')).equals(data));
    const range = join(local.path, 'range.bin');
    succeeded(await curl(['--range', '1000-1999', '--output', range, `${url}/resumed.bin`]));
    assert.ok(readFileSync(range).equals(data.subarray(1000, 2000)), 'bytes 1000-1999 exactly');
  });

  it('creates missing directories for an upload, and runs quote commands as single requests', async () => {
    const data = Buffer.from('nested\n');
    succeeded(await curl(['--ftp-create-dirs', '--upload-file', localFile('n.txt', data), `${url}/a/b/c/n.txt`]));
    assert.deepEqual(readFileSync(join(root.path, 'a/b/c/n.txt')), data);
    const quotes = ['mkdir /made', 'rename /a/b/c/n.txt /made/moved.txt', 'chmod 600 /made/moved.txt', 'symlink /made/moved.txt /link', 'rmdir /a/b/c'];
    succeeded(await curl([...quotes.flatMap((command) => ['--quote', command]), `${url}/`]));
    assert.equal(statSync(join(root.path, 'made/moved.txt')).mode & 0o777, 0o600);
    assert.ok(lstatSync(join(root.path, 'link')).isSymbolicLink());
    assert.deepEqual(readFileSync(join(root.path, 'link')), data, 'the link leads to the file, inside the root');
    assert.equal(existsSync(join(root.path, 'a/b/c')), false, 'rmdir removed the emptied directory');
  });

  it('lists a directory in ls -l form, with sizes and names as stored', async () => {
    mkdirSync(join(root.path, 'listed'));
    writeFileSync(join(root.path, 'listed', 'name with spaces.txt'), 'x'.repeat(1234));
    writeFileSync(join(root.path, 'listed', 'ünïcødé.bin'), '');
    const listing = await curl([`${url}/listed/`]);
    succeeded(listing);
    const lines = listing.stdout.trim().split('\n');
    assert.equal(lines.length, 2, listing.stdout);
    assert.ok(lines.some((line) => /^-rw-\S{6} +1 +\S+ +\S+ +1234 .* name with spaces\.txt$/.test(line)), listing.stdout);
    assert.ok(lines.some((line) => /^-rw-\S{6} +1 +\S+ +\S+ +0 .* ünïcødé\.bin$/.test(line)), listing.stdout);
  });

  it('refuses a wrong password and a missing file with their own errors, and serves the next request', async () => {
    const wrong = await curl([`${url}/`], 'not-the-password');
    assert.equal(wrong.code, 67, `login denied, not ${wrong.code}: ${wrong.stderr}`);
    const missing = await curl([`${url}/no/such/file`]);
    assert.equal(missing.code, 78, `remote file not found, not ${missing.code}: ${missing.stderr}`);
    assert.match(missing.stderr, /No such file/);
    const escaped = await curl([`${url}/../../../etc/passwd`]);
    assert.equal(escaped.code, 78, 'a path above the root stays inside it, where there is no etc/passwd');
    succeeded(await curl([`${url}/`]));
  });

  it('logs in with an ed25519 key', async () => {
    const listing = await runProcess('curl', ['--silent', '--show-error', '--insecure', '--user', `${TEST_USER}:`, '--key', server.clientKeyPath, '--pubkey', `${server.clientKeyPath}.pub`, `${url}/`], { timeoutMs: 60_000 });
    succeeded(listing);
    assert.match(listing.stdout, / up\.bin$/m);
  });
});
