import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connectSSH2, makeClientKey, makeTempDir, requireTool, startServe } from './cliProcess.js';

const sha256Fingerprint = (blob: Buffer) => 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');

describe('sftp-expose serve host keys', () => {
  it('generates host keys once, caches them with 0600 permissions, and keeps the same identity across restarts', async () => {
    const temp = await makeTempDir();
    const stateDir = join(temp.path, 'state');
    const args = ['--user', 'demo', '--pass', 'demo', '--state-dir', stateDir];
    try {
      const first = await startServe(args, temp.path);
      let seenByClient: string;
      try {
        assert.equal(first.fingerprints.length, 2, first.stderr());
        assert.match(first.fingerprints.join('\n'), /^ssh-ed25519 SHA256:/m);
        assert.match(first.fingerprints.join('\n'), /^ssh-rsa SHA256:/m);
        const connection = await connectSSH2({ port: first.port, username: 'demo', password: 'demo' });
        connection.end();
        seenByClient = sha256Fingerprint(connection.hostKey);
      } finally {
        assert.equal((await first.stop()).code, 0);
      }
      assert.ok(first.fingerprints.some((line) => line.endsWith(seenByClient)), `the client saw ${seenByClient}, logged: ${first.fingerprints}`);

      for (const file of ['ssh_host_ed25519_key', 'ssh_host_rsa_key']) {
        assert.equal((await stat(join(stateDir, file))).mode & 0o777, 0o600, `${file} permissions`);
      }

      const second = await startServe(args, temp.path);
      try {
        assert.deepEqual(second.fingerprints, first.fingerprints);
      } finally {
        await second.stop();
      }
    } finally {
      await temp.cleanup();
    }
  });

  it('uses the --key files given, with the fingerprint ssh-keygen shows, and generates none', async (t) => {
    if (!requireTool(t, 'ssh-keygen')) return;
    const temp = await makeTempDir();
    const stateDir = join(temp.path, 'state');
    try {
      const keyFile = makeClientKey(temp.path, 'host_key');
      const expected = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', keyFile]).stdout.toString().split(' ')[1];
      assert.match(expected ?? '', /^SHA256:/);
      const server = await startServe(['--no-auth', '--key', keyFile, '--state-dir', stateDir], temp.path);
      try {
        assert.deepEqual(server.fingerprints, [`ssh-ed25519 ${expected}`]);
        const connection = await connectSSH2({ port: server.port, username: 'x' });
        connection.end();
        assert.equal(sha256Fingerprint(connection.hostKey), expected);
      } finally {
        await server.stop();
      }
      assert.equal(existsSync(join(stateDir, 'ssh_host_ed25519_key')), false);
    } finally {
      await temp.cleanup();
    }
  });
});
