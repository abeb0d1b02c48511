import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalFS } from '../../src/backends/local.js';
import { requireTool } from '../helpers/requireTool.js';
import { runSftpBatch, type SftpBatchResult } from '../helpers/sftpBatch.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

/**
 * What people do with OpenSSH's sftp client beyond put and get, against a
 * LocalFS (so the results can also be checked on the disk itself).
 */
const skip = requireTool('sftp') || requireTool('ssh-keygen');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function assertSucceeded(result: SftpBatchResult): void {
  assert.equal(result.code, 0, `sftp failed (code ${result.code}): ${result.stderr}`);
}

describe('OpenSSH sftp client: resume, recursion, globs, links, copies, df, chown, awkward names', { skip }, () => {
  let server: TestServer;
  let served: ReturnType<typeof makeTempDir>;
  let local: ReturnType<typeof makeTempDir>;
  const batch = (commands: string[]) => runSftpBatch(server.port, server.clientKeyPath, commands, { cwd: local.path });
  const onDisk = (path: string) => join(served.path, path);

  before(async () => {
    served = makeTempDir('sftp-expose-served-');
    local = makeTempDir('sftp-expose-client-');
    server = await startTestServer({ fs: new LocalFS({ root: served.path }) });
  });
  after(async () => {
    await server?.close();
    served?.remove();
    local?.remove();
  });

  it('resumes an interrupted upload and download with -a', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(join(local.path, 'resume.bin'), content);
    writeFileSync(onDisk('resume.bin'), content.subarray(0, 1024 * 1024)); // an upload cut short
    assertSucceeded(await batch(['put -a resume.bin']));
    assert.equal(sha256(readFileSync(onDisk('resume.bin'))), sha256(content));
    writeFileSync(join(local.path, 'partial.bin'), content.subarray(0, 2 * 1024 * 1024)); // a download cut short
    assertSucceeded(await batch(['get -a resume.bin partial.bin']));
    assert.equal(sha256(readFileSync(join(local.path, 'partial.bin'))), sha256(content));
  });

  it('puts and gets directory trees with -R, and lists them with globs', async () => {
    mkdirSync(join(local.path, 'tree', 'a', 'b'), { recursive: true });
    writeFileSync(join(local.path, 'tree', 'top.txt'), 'top');
    writeFileSync(join(local.path, 'tree', 'a', 'one.log'), 'one');
    writeFileSync(join(local.path, 'tree', 'a', 'two.log'), 'two');
    writeFileSync(join(local.path, 'tree', 'a', 'b', 'deep.txt'), 'deep');
    assertSucceeded(await batch(['put -R tree']));
    assert.equal(readFileSync(onDisk('tree/a/b/deep.txt'), 'utf8'), 'deep');
    const listing = await batch(['ls -l tree/a/*.log']);
    assertSucceeded(listing);
    assert.match(listing.stdout, /one\.log/);
    assert.match(listing.stdout, /two\.log/);
    assert.doesNotMatch(listing.stdout, /deep\.txt/);
    assertSucceeded(await batch(['get -R tree tree-back']));
    assert.equal(readFileSync(join(local.path, 'tree-back', 'a', 'b', 'deep.txt'), 'utf8'), 'deep');
    assert.equal(readFileSync(join(local.path, 'tree-back', 'top.txt'), 'utf8'), 'top');
  });

  it('makes hard links with ln and symbolic links with ln -s', async () => {
    writeFileSync(onDisk('original.txt'), 'shared content');
    assertSucceeded(await batch(['ln original.txt hard.txt', 'ln -s original.txt soft.txt']));
    assert.equal(statSync(onDisk('hard.txt')).ino, statSync(onDisk('original.txt')).ino, 'a hard link shares the inode');
    assert.equal(readFileSync(onDisk('soft.txt'), 'utf8'), 'shared content');
    // `ls -l NAME` stats through the link (client-side, as with OpenSSH's server); a directory listing shows it.
    const listing = await batch(['ls -l']);
    assert.match(listing.stdout, /^l.* soft\.txt$/m);
  });

  it('copies on the server with cp (copy-data)', async () => {
    const content = randomBytes(700 * 1024);
    writeFileSync(onDisk('to-copy.bin'), content);
    assertSucceeded(await batch(['cp to-copy.bin copied.bin']));
    assert.equal(sha256(readFileSync(onDisk('copied.bin'))), sha256(content));
  });

  it('reports capacity with df -h (statvfs)', async () => {
    const result = await batch(['df -h']);
    assertSucceeded(result);
    assert.match(result.stdout, /Size\s+Used\s+Avail/);
    assert.match(result.stdout, /\d+(\.\d+)?[KMGTP]B/);
  });

  it('renames, changes modes and changes owner and group by id', async () => {
    writeFileSync(onDisk('mode.txt'), 'x');
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    assertSucceeded(await batch(['rename mode.txt moved.txt', 'chmod 640 moved.txt', `chown ${uid} moved.txt`, `chgrp ${gid} moved.txt`]));
    const stats = statSync(onDisk('moved.txt'));
    assert.equal(stats.mode & 0o777, 0o640);
    assert.equal(stats.uid, uid);
    assert.equal(stats.gid, gid);
  });

  it('round-trips names with spaces, quotes, unicode and 255 bytes', async () => {
    const names = ['with space.txt', "it's.txt", 'say "hi".txt', 'ünïcødé-日本語.txt', `${'n'.repeat(251)}.txt`];
    assert.equal(Buffer.byteLength(names[4]!), 255);
    for (const [index, name] of names.entries()) writeFileSync(join(local.path, name), `content ${index}`);
    // sftp's batch syntax: double quotes around a name, backslash before a double quote inside it.
    const quoted = (name: string) => `"${name.replace(/"/g, '\\"')}"`;
    assertSucceeded(await batch(['mkdir names', ...names.map((name) => `put ${quoted(name)} names/${quoted(name)}`)]));
    for (const [index, name] of names.entries()) assert.equal(readFileSync(onDisk(join('names', name)), 'utf8'), `content ${index}`);
    const listing = await batch(['ls -1 names']);
    for (const name of names) assert.ok(listing.stdout.includes(name), `ls shows ${name}`);
    mkdirSync(join(local.path, 'names-back'));
    assertSucceeded(await batch(names.map((name) => `get names/${quoted(name)} names-back/${quoted(name)}`)));
    for (const [index, name] of names.entries()) assert.equal(readFileSync(join(local.path, 'names-back', name), 'utf8'), `content ${index}`);
  });
});
