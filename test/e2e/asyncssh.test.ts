import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import { requirePythonModule, SYSTEM_PYTHON } from '../helpers/requireTool.js';
import { runProcess } from '../helpers/runProcess.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

/*
 * AsyncSSH's client (Debian's python3-asyncssh, run by the system python)
 * against our real server. AsyncSSH has an SFTP client of its own, and sends
 * SYMLINK's paths link first to a server not named OpenSSH: the link must
 * still be the one it asked for (see src/sftp/symlinkOrder.ts).
 */

const SCRIPT = fileURLToPath(new URL('./python/asyncssh_client.py', import.meta.url));
const PASSWORD = 'asyncssh-test-password';


describe('AsyncSSH client against our server', { skip: requirePythonModule('asyncssh', 'python3-asyncssh') }, () => {
  let server: TestServer;
  const fs = new MemoryFS();

  before(async () => {
    server = await startTestServer({ fs, password: PASSWORD });
  });
  after(async () => {
    await server?.close();
  });

  it('transfers, pipelined uploads, symlinks, renames, attributes and errors all hold', async () => {
    const result = await runProcess(SYSTEM_PYTHON, ['-W', 'ignore', SCRIPT, '127.0.0.1', String(server.port), TEST_USER, PASSWORD], { timeoutMs: 120_000 });
    assert.equal(result.code, 0, `asyncssh script failed:\n${result.stderr}`);
    const findings = JSON.parse(result.stdout) as Record<string, unknown>;
    const stored = await fs.readFile('/up.bin');
    assert.equal(findings.sha256, createHash('sha256').update(stored).digest('hex'), 'the server stored what AsyncSSH sent');
    assert.equal(findings.version, 3);
    assert.deepEqual(findings.listed, Array.from({ length: 8 }, (_, i) => `copy${i}.bin`));
    assert.equal(findings.readlink, 'up.bin', 'the link AsyncSSH asked for, pointing where it asked');
    assert.equal(await fs.readlink('/link'), 'up.bin');
    assert.equal(findings.linkIsLink, true);
    assert.equal(findings.sizeThroughLink, stored.length);
    assert.equal(findings.mode, 0o600);
    assert.equal(findings.mtime, 1234567890);
    assert.equal(findings.mkdirExisting, 'SFTPFailure');
    assert.equal(findings.missing, 'SFTPNoSuchFile');
    assert.equal(findings.treeGone, true);
  });
});
