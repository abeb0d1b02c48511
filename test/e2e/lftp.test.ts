import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalFS } from '../../src/backends/local.js';
import { requireTool } from '../helpers/requireTool.js';
import { runProcess, type ProcessResult } from '../helpers/runProcess.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

/*
 * lftp's SFTP client against our server over a real folder. lftp speaks SFTP
 * itself over an `ssh` it starts (not OpenSSH's sftp), asks for protocol
 * version 6 and must settle for our 3, and mirrors with several transfers at
 * once over one session.
 */

const skip = requireTool('lftp') || requireTool('ssh');

/** The tree mirrored up and back: nesting, an empty file, a name lftp must quote, files of several packets. */
const TREE: Record<string, Buffer> = {
  'empty.txt': Buffer.alloc(0),
  'big.bin': randomBytes(5 * 1024 * 1024 + 17),
  'ünïcødé name.txt': Buffer.from('unicode\n'),
  'nested/deeper/leaf.bin': randomBytes(200_000),
  'nested/note.md': Buffer.from('# note\n'),
  ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`many/file-${i}.txt`, randomBytes(i * 100)])),
};

/** Every file under `dir`, by path relative to it, with its bytes. */
function readTree(dir: string): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[relative(dir, path)] = readFileSync(path);
  }
  return files;
}

describe('lftp against our server', { skip }, () => {
  const root = makeTempDir('sftp-expose-lftp-root-');
  const local = makeTempDir('sftp-expose-lftp-local-');
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ fs: new LocalFS({ root: root.path }) });
    for (const [path, data] of Object.entries(TREE)) {
      mkdirSync(join(local.path, 'tree', path, '..'), { recursive: true });
      writeFileSync(join(local.path, 'tree', path), data);
    }
  });
  after(async () => {
    await server?.close();
    root.remove();
    local.remove();
  });

  /** Runs lftp commands in a session logged in with the test key; lftp exits non-zero when one fails. */
  function lftp(commands: string[]): Promise<ProcessResult> {
    const ssh = `ssh -a -x -F /dev/null -i ${server.clientKeyPath} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR`;
    const script = [
      `set sftp:connect-program "${ssh}"`,
      'set net:max-retries 1',
      'set cmd:fail-exit yes',
      `open -u ${TEST_USER}, -p ${server.port} sftp://127.0.0.1`,
      ...commands,
    ];
    return runProcess('lftp', ['-c', script.join('\n')], { cwd: local.path, timeoutMs: 120_000 });
  }
  const succeeded = (result: ProcessResult) => assert.equal(result.code, 0, `lftp failed (${result.code}): ${result.stderr}${result.stdout}`);

  it('mirrors a tree up with four transfers at once, and back down, byte for byte', async () => {
    succeeded(await lftp(['mirror --reverse --parallel=4 tree /up']));
    assert.deepEqual(readTree(join(root.path, 'up')), TREE, 'the server stored the tree');
    succeeded(await lftp(['mirror --parallel=4 /up back']));
    assert.deepEqual(readTree(join(local.path, 'back')), TREE, 'the tree came back');
  });

  it('renames, changes modes and removes a tree', async () => {
    succeeded(await lftp(['mirror --reverse tree /job', 'mv /job/nested /job/moved', 'chmod 600 /job/moved/note.md', 'ls /job/moved']));
    assert.equal(existsSync(join(root.path, 'job/nested')), false);
    assert.equal(statSync(join(root.path, 'job/moved/note.md')).mode & 0o777, 0o600);
    succeeded(await lftp(['rm -r /job']));
    assert.equal(existsSync(join(root.path, 'job')), false, 'rm -r removed every file and directory');
  });

  it('reports a missing file as an error, and the next command in a new session works', async () => {
    const missing = await lftp(['get /no/such/file -o nothing']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /No such file/);
    const listing = await lftp(['cls -1 /up']);
    succeeded(listing);
    assert.deepEqual(listing.stdout.trim().split('\n').sort(), ['/up/big.bin', '/up/empty.txt', '/up/many/', '/up/nested/', '/up/ünïcødé name.txt']);
  });
});
