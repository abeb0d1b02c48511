import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type ssh2 from 'ssh2';
import { LocalFS } from '../../src/backends/local.js';
import { requireTool } from '../helpers/requireTool.js';
import { runProcess, type ProcessResult } from '../helpers/runProcess.js';
import { connectClient, endClient } from '../helpers/ssh2Client.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

/*
 * OpenSSH's scp against our server over a real folder, both ways it copies:
 * over SFTP (the default since OpenSSH 9.0), and with the classic protocol
 * (`-O`, and every scp before 9.0), which runs `scp -t`/`scp -f` on the
 * server (src/ssh/exec/scp.ts). Also the exit status an SFTP channel ends
 * with, which scp (through ssh) turns into its own: without one, every copy
 * "failed" with exit code 1 although its bytes had arrived.
 */

for (const protocol of ['SFTP', 'classic'] as const)
describe(`scp (${protocol} protocol) against our server`, { skip: requireTool('scp') }, () => {
  const root = makeTempDir('sftp-expose-scp-root-');
  const local = makeTempDir('sftp-expose-scp-local-');
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ fs: new LocalFS({ root: root.path }) });
  });
  after(async () => {
    await server?.close();
    root.remove();
    local.remove();
  });

  const scp = (args: string[]): Promise<ProcessResult> =>
    runProcess('scp', [...(protocol === 'classic' ? ['-O'] : []), '-F', '/dev/null', '-P', String(server.port), '-i', server.clientKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', ...args], { timeoutMs: 60_000 });
  const remote = (path: string) => `${TEST_USER}@127.0.0.1:${path}`;
  const succeeded = (result: ProcessResult) => assert.equal(result.code, 0, `scp exited ${result.code}: ${result.stderr}`);

  it('copies a file up and down byte for byte, and exits 0', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 3);
    writeFileSync(join(local.path, 'up.bin'), data);
    succeeded(await scp([join(local.path, 'up.bin'), remote('/up.bin')]));
    assert.ok(readFileSync(join(root.path, 'up.bin')).equals(data));
    succeeded(await scp([remote('/up.bin'), join(local.path, 'down.bin')]));
    assert.ok(readFileSync(join(local.path, 'down.bin')).equals(data));
  });

  it('copies a tree both ways with -rp, times and modes kept', async () => {
    mkdirSync(join(local.path, 'tree/sub'), { recursive: true });
    writeFileSync(join(local.path, 'tree/a.txt'), 'a\n', { mode: 0o600 });
    writeFileSync(join(local.path, 'tree/sub/b.txt'), 'b\n');
    const then = new Date('2020-01-02T03:04:05Z');
    utimesSync(join(local.path, 'tree/a.txt'), then, then);
    succeeded(await scp(['-rp', join(local.path, 'tree'), remote('/')]));
    assert.equal(readFileSync(join(root.path, 'tree/sub/b.txt'), 'utf8'), 'b\n');
    assert.equal(statSync(join(root.path, 'tree/a.txt')).mtimeMs, then.getTime());
    assert.equal(statSync(join(root.path, 'tree/a.txt')).mode & 0o777, 0o600);
    succeeded(await scp(['-rp', remote('/tree'), join(local.path, 'back')]));
    assert.equal(readFileSync(join(local.path, 'back/sub/b.txt'), 'utf8'), 'b\n');
    assert.equal(statSync(join(local.path, 'back/a.txt')).mtimeMs, then.getTime());
  });

  it('fails, and says why, for a file that is not there, and for files sent to a name that is not a directory', async () => {
    const result = await scp([remote('/no-such-file'), join(local.path, 'nothing')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /No such file/);
    writeFileSync(join(local.path, 'one'), '1');
    writeFileSync(join(local.path, 'two'), '2');
    writeFileSync(join(root.path, 'plain'), 'kept');
    const many = await scp([join(local.path, 'one'), join(local.path, 'two'), remote('/plain')]);
    // As against OpenSSH's server: over SFTP scp tries to make the directory and gives up (255).
    if (protocol === 'SFTP') assert.equal(many.code, 255, many.stderr);
    else assert.match(`${many.code} ${many.stderr}`, /^1 .*plain: Not a directory/s);
    assert.equal(readFileSync(join(root.path, 'plain'), 'utf8'), 'kept');
  });
});

describe('classic scp: bad input from the client side of the protocol', () => {
  const root = makeTempDir('sftp-expose-scp-bad-');
  let server: TestServer;
  let client: ssh2.Client;

  before(async () => {
    // Atomic uploads: a backend that can abort a file, as an upload cut short must be.
    server = await startTestServer({ fs: new LocalFS({ root: root.path, atomicUploads: true }) });
    client = await connectClient(server.port, { username: TEST_USER, privateKey: readFileSync(server.clientKeyPath) });
  });
  after(async () => {
    if (client) await endClient(client);
    await server?.close();
    root.remove();
  });

  /** Runs `command`, sends `input` and EOF; resolves with what came back and the exit status. */
  function exec(command: string, input: string): Promise<{ stdout: string; stderr: string; status: number | undefined }> {
    return new Promise((resolve, reject) => {
      client.exec(command, (error, channel) => {
        if (error) return reject(error);
        let stdout = '';
        let stderr = '';
        let status: number | undefined;
        channel.on('data', (data: Buffer) => (stdout += data.toString('latin1')));
        channel.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
        channel.on('exit', (code: number) => (status = code));
        channel.on('close', () => resolve({ stdout, stderr, status }));
        channel.end(input);
      });
    });
  }

  it('refuses a name that is not one path component, and writes nothing', async () => {
    mkdirSync(join(root.path, 'in'));
    const result = await exec('scp -t /in', 'C0644 5 ../escaped\nhello\0');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /unexpected filename: \.\.\/escaped/);
    assert.equal(existsSync(join(root.path, 'escaped')), false);
  });

  it('refuses a directory without -r, and a malformed line', async () => {
    assert.match((await exec('scp -t /', 'D0755 0 dir\n')).stderr, /directory without -r/);
    const garbage = await exec('scp -t /', 'Z nonsense\n');
    assert.equal(garbage.status, 1);
    assert.match(garbage.stderr, /expected a file or directory line/);
  });

  it("notes a warning from the client (a file it could not read) and copies the rest", async () => {
    const result = await exec('scp -t /', '\x01scp: gone.txt: Permission denied\nC0644 3 kept.txt\nhi\n\0');
    assert.equal(result.status, 1, 'the copy as a whole failed');
    assert.equal(readFileSync(join(root.path, 'kept.txt'), 'utf8'), 'hi\n', 'the next file still arrived');
  });

  it('answers a file the client could not finish reading (it waits for that answer), then copies the next', async () => {
    const result = await exec('scp -t /', 'C0644 3 half.txt\nhi\n\x01scp: half.txt: read error\nC0644 3 next.txt\nho\n\0');
    assert.equal(result.status, 1);
    // Ready, then for each file: ready for its data, and the final answer.
    assert.equal(result.stdout, '\0'.repeat(5));
    assert.equal(readFileSync(join(root.path, 'next.txt'), 'utf8'), 'ho\n');
  });

  it('fails a file whose data stops short, publishes none of it, and the connection serves the next command', async () => {
    writeFileSync(join(root.path, 'short.bin'), 'the old content');
    const short = await exec('scp -t /short.bin', 'C0644 1000 short.bin\nonly a few bytes');
    assert.equal(short.status, 1);
    assert.match(short.stderr, /input ended 984 bytes short/);
    assert.equal(readFileSync(join(root.path, 'short.bin'), 'utf8'), 'the old content', 'the partial upload was aborted');
    const next = await exec('sha256sum /short.bin', '');
    assert.equal(next.status, 0, next.stderr);
  });
});

describe('the exit status of an SFTP channel', () => {
  let server: TestServer;
  let client: ssh2.Client;

  before(async () => {
    server = await startTestServer();
    client = await connectClient(server.port, { username: TEST_USER, privateKey: readFileSync(server.clientKeyPath) });
  });
  after(async () => {
    if (client) await endClient(client);
    await server?.close();
  });

  /** Opens the sftp subsystem, writes `input`, ends our side; resolves with the exit-status the server sent (undefined: none). */
  function exitStatusAfter(input: Buffer): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      client.subsys('sftp', (error, channel) => {
        if (error) return reject(error);
        let status: number | undefined;
        channel.on('exit', (code: number) => (status = code));
        channel.on('close', () => resolve(status));
        channel.resume();
        channel.end(input);
      });
    });
  }

  it('is 0 when the client ends the session', async () => {
    const init = Buffer.from([0, 0, 0, 5, 1, 0, 0, 0, 3]); // INIT, version 3
    assert.equal(await exitStatusAfter(init), 0);
  });

  it('is 1 when the client breaks the protocol', async () => {
    const beforeInit = Buffer.from([0, 0, 0, 5, 16, 0, 0, 0, 1]); // a REALPATH (with no path) before INIT
    assert.equal(await exitStatusAfter(beforeInit), 1);
  });
});
