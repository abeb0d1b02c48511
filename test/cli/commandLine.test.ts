import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir, runCLI } from './cliProcess.js';

/** Exit code 2, one line naming the problem, one line pointing at --help, nothing on stdout. */
function assertUsageError(result: { code: number | null; stdout: string; stderr: string }, message: RegExp): void {
  assert.equal(result.code, 2, `exit code; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, `two lines expected: ${result.stderr}`);
  assert.match(lines[0]!, /^sftp-expose: /);
  assert.match(lines[0]!, message);
  assert.match(lines[1]!, /Run 'sftp-expose (serve )?--help' for usage\./);
  assert.equal(result.stdout, '');
}

describe('sftp-expose command line', () => {
  let home: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    home = await makeTempDir();
  });
  after(async () => {
    await home.cleanup();
  });

  it('prints the package version with --version', async () => {
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    const result = await runCLI(['--version'], home.path);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `sftp-expose ${version}\n`);
  });

  it('prints the serve flags with serve --help, exit 0', async () => {
    const result = await runCLI(['serve', '--help'], home.path);
    assert.equal(result.code, 0);
    for (const flag of ['--addr', '--key', '--authorized-keys', '--user', '--pass', '--no-auth', '--read-only', '--verbose', '--log-level', '--state-dir']) {
      assert.ok(result.stdout.includes(flag), `help mentions ${flag}`);
    }
    assert.match(result.stdout, /memory:/);
  });

  it('lists the commands with --help', async () => {
    const result = await runCLI(['--help'], home.path);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^\s+serve\s/m);
  });

  it('rejects a missing or unknown command with exit 2', async () => {
    assertUsageError(await runCLI([], home.path), /missing command/);
    assertUsageError(await runCLI(['srve'], home.path), /unknown command "srve"/);
  });

  it('rejects an unknown flag with exit 2', async () => {
    assertUsageError(await runCLI(['serve', '--bogus', '--no-auth'], home.path), /Unknown option '--bogus'/);
  });

  it('rejects a flag missing its value with exit 2', async () => {
    assertUsageError(await runCLI(['serve', '--no-auth', '--addr'], home.path), /--addr/);
  });

  for (const addr of ['2022', 'localhost', 'localhost:port', ':70000', '[::1]2022']) {
    it(`rejects --addr ${addr} with exit 2`, async () => {
      assertUsageError(await runCLI(['serve', '--no-auth', '--addr', addr], home.path), /invalid --addr/);
    });
  }

  it('rejects an unknown --log-level', async () => {
    assertUsageError(await runCLI(['serve', '--no-auth', '--log-level', 'chatty'], home.path), /invalid --log-level "chatty"/);
  });

  it('rejects --pass without --user', async () => {
    assertUsageError(await runCLI(['serve', '--pass', 'secret'], home.path), /--pass needs --user/);
  });

  it('rejects a backend folder that does not exist', async () => {
    const missing = join(home.path, 'no-such-folder');
    assertUsageError(await runCLI(['serve', missing, '--no-auth'], home.path), /backend folder not found: .*no-such-folder/);
  });

  it('rejects a backend that is a file, not a folder', async () => {
    const file = join(home.path, 'a-file');
    await writeFile(file, 'x');
    assertUsageError(await runCLI(['serve', file, '--no-auth'], home.path), /backend is not a folder/);
  });

  it('rejects a URL with a scheme it does not know instead of taking it for a folder', async () => {
    assertUsageError(await runCLI(['serve', 'nosuch://bucket/path', '--no-auth'], home.path), /unknown backend "nosuch:"/);
  });

  it('rejects two backends', async () => {
    assertUsageError(await runCLI(['serve', 'memory:', 'memory:', '--no-auth'], home.path), /at most one BACKEND/);
  });

  it('rejects an --authorized-keys file that does not exist', async () => {
    const missing = join(home.path, 'nope', 'authorized_keys');
    assertUsageError(await runCLI(['serve', '--authorized-keys', missing], home.path), /authorized keys file not found/);
  });

  it('rejects a --key file that does not exist', async () => {
    assertUsageError(await runCLI(['serve', '--no-auth', '--key', join(home.path, 'missing_key')], home.path), /host key file not found/);
  });

  it('refuses to start with no way to authenticate, and says how to give one', async () => {
    // HOME is a fresh directory: there is no ~/.ssh/authorized_keys to fall back on.
    const result = await runCLI(['serve', '--addr', '127.0.0.1:0'], home.path);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /refusing to start: no way to authenticate/);
    assert.match(result.stderr, /--user and --pass/);
    assert.match(result.stderr, /--no-auth/);
    assert.doesNotMatch(result.stderr, /listening on/);
  });

  it('refuses to start with --user alone and no authorized keys', async () => {
    const result = await runCLI(['serve', '--addr', '127.0.0.1:0', '--user', 'demo'], home.path);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no way to authenticate/);
  });

  it('refuses to start when the authorized keys file has no usable key', async () => {
    const keys = join(home.path, 'empty_authorized_keys');
    await writeFile(keys, '# nothing here\nnot-a-key AAAA\n');
    const result = await runCLI(['serve', '--addr', '127.0.0.1:0', '--authorized-keys', keys], home.path);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no usable key/);
    assert.match(result.stderr, /no way to authenticate/);
  });

  it('fails with exit 1 and a clear message when the port is taken', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const result = await runCLI(['serve', '--no-auth', '--addr', `127.0.0.1:${port}`, '--state-dir', join(home.path, 'state')], home.path);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
