import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import { requirePythonModule, SYSTEM_PYTHON } from '../helpers/requireTool.js';
import { runProcess, type ProcessResult } from '../helpers/runProcess.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

/*
 * paramiko's client (Debian's python3-paramiko, run by the system python)
 * against our real server: random-access writes and reads, posix_rename,
 * SFTPFile.check() (the check-file extension) against hashlib, and
 * listdir_attr of 5,000 entries. The script checks its own results and
 * reports what it found as JSON.
 */

const SCRIPT = fileURLToPath(new URL('./python/paramiko_client.py', import.meta.url));
const PASSWORD = 'paramiko-test-password';


function runScript(port: number, timeoutMs = 120_000): Promise<ProcessResult> {
  return runProcess(SYSTEM_PYTHON, [SCRIPT, '127.0.0.1', String(port), TEST_USER, PASSWORD], { timeoutMs });
}

describe('paramiko client against our server', { skip: requirePythonModule('paramiko', 'python3-paramiko') }, () => {
  let server: TestServer;
  const fs = new MemoryFS();

  before(async () => {
    await fs.mkdir('/many');
    for (let i = 0; i < 5000; i++) await fs.writeFile(`/many/entry-${i}`, '');
    server = await startTestServer({ fs, password: PASSWORD });
  });

  after(async () => {
    await server?.close();
  });

  it('random access, posix_rename, check-file and a 5,000-entry listing all hold', async () => {
    const result = await runScript(server.port);
    assert.equal(result.code, 0, `paramiko script failed:\n${result.stderr}`);
    const findings = JSON.parse(result.stdout) as {
      randomAccessBytes: number;
      plainRenameReplaced: boolean;
      checkFile: { md5: string; sha1: string; sha256: string; blocks: number };
      listed: number;
    };
    // The server's copy, not only what paramiko read back.
    const stored = await fs.readFile('/rand.bin');
    assert.equal(stored.length, findings.randomAccessBytes);
    assert.equal(findings.checkFile.sha256, createHash('sha256').update(stored).digest('hex'));
    assert.equal(findings.checkFile.md5, createHash('md5').update(stored).digest('hex'));
    assert.equal(findings.checkFile.blocks, Math.ceil(300_000 / 65536));
    assert.equal(findings.plainRenameReplaced, false, 'SFTP v3 RENAME must not replace an existing file');
    assert.equal(findings.listed, 5000);
    assert.equal((await fs.readFile('/b.txt')).toString(), 'A');
  });
});
