import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { clientKey } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { runSftpBatch } from '../helpers/sftpBatch.js';
import { startSshd, SSHD, type RunningSshd } from '../helpers/sshd.js';
import { makeTempDir } from '../helpers/tempDir.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const skip = requireTool('sftp') || requireTool(SSHD);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('as OpenSSH\'s sftp subsystem: sshd runs `sftp-expose serve --stdio DIR`', { skip }, () => {
  let temp: ReturnType<typeof makeTempDir>;
  let sshd: RunningSshd;
  const served = () => join(temp.path, 'served');

  before(async () => {
    temp = makeTempDir();
    mkdirSync(served());
    mkdirSync(join(temp.path, 'client'));
    const authorizedKeys = join(temp.path, 'authorized_keys');
    writeFileSync(authorizedKeys, readFileSync(`${clientKey().path}.pub`));
    sshd = await startSshd({ authorizedKeysPath: authorizedKeys, subsystem: `${process.execPath} ${CLI} serve --stdio ${served()}` });
  });
  after(async () => {
    await sshd?.stop();
    temp?.remove();
  });

  it('serves put, ls and get through sshd, confined to DIR', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    writeFileSync(join(temp.path, 'client', 'up.bin'), data);
    const run = await runSftpBatch(sshd.port, clientKey().path, ['put up.bin', 'ls -l', 'get up.bin down.bin', 'cd ..', 'pwd'], {
      cwd: join(temp.path, 'client'),
      user: sshd.user,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(sha256(readFileSync(join(served(), 'up.bin'))), sha256(data));
    assert.equal(sha256(readFileSync(join(temp.path, 'client', 'down.bin'))), sha256(data));
    assert.match(run.stdout, /up\.bin/);
    assert.match(run.stdout, /Remote working directory: \/\n/);
  });
});
