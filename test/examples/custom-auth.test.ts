import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { connectSSH2, makeTempDir, requireTool, runOpenSSHSftp, startExample, type RunningCLI } from '../cli/cliProcess.js';

const SCRIPT = fileURLToPath(new URL('../../examples/custom-auth.ts', import.meta.url));

const call = <T>(run: (callback: (error: Error | null | undefined, value: T) => void) => void) =>
  new Promise<T>((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));
const done = (run: (callback: (error: Error | null | undefined) => void) => void) => call<void>((cb) => run((error) => cb(error, undefined)));

describe('examples/custom-auth.ts run as a script', () => {
  let temp: { path: string; cleanup: () => Promise<void> };
  let server: RunningCLI;
  // ecdsa: ssh2's ed25519 generator sometimes writes keys it cannot read back.
  const aliceKey = ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 });
  const otherKey = ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 });

  before(async () => {
    temp = await makeTempDir('sftp-expose-example-');
    const pubkeyFile = join(temp.path, 'alice.pub');
    await writeFile(pubkeyFile, aliceKey.public + '\n');
    server = await startExample(SCRIPT, temp.path, { ALICE_PUBKEY: pubkeyFile, ALICE_PASS: 'a-pass', BOB_PASS: 'b-pass' });
  });
  after(async () => {
    await server?.stop();
    await temp?.cleanup();
  });

  /** ssh2 tries the methods in order, going on after a partial success. */
  const inOrder = (...methods: ssh2.AnyAuthMethod[]): ssh2.AuthMethod[] => methods;
  const asAlice = (key: string, password: string) =>
    connectSSH2({
      port: server.port,
      username: 'alice',
      authHandler: inOrder({ type: 'publickey', username: 'alice', key }, { type: 'password', username: 'alice', password }),
    });

  it('lets alice in with her key then her password, and keeps her files across connections', async () => {
    const first = await asAlice(aliceKey.private, 'a-pass');
    try {
      const sftp = await first.sftp();
      await done((cb) => sftp.writeFile('/notes.txt', 'alice was here', cb));
    } finally {
      first.end();
    }
    const second = await asAlice(aliceKey.private, 'a-pass');
    try {
      const sftp = await second.sftp();
      assert.equal((await call<Buffer>((cb) => sftp.readFile('/notes.txt', cb))).toString(), 'alice was here');
    } finally {
      second.end();
    }
  });

  it('lets alice in with OpenSSH sftp, which signs with her key, is told "partial success" and sends her password', async (t) => {
    if (!requireTool(t, 'sftp')) return;
    const identity = join(temp.path, 'alice_key');
    await writeFile(identity, aliceKey.private, { mode: 0o600 });
    const result = await runOpenSSHSftp({ port: server.port, user: 'alice', identity, password: 'a-pass', commands: ['put ' + join(temp.path, 'alice.pub') + ' /from-openssh.pub', 'ls -1 /'] });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /from-openssh\.pub/);
    const wrong = await runOpenSSHSftp({ port: server.port, user: 'alice', identity, password: 'not-hers', commands: ['ls -1 /'] });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /Permission denied/);
  });

  it('refuses alice with the password alone, with the key alone, and with another key', async () => {
    await assert.rejects(connectSSH2({ port: server.port, username: 'alice', password: 'a-pass' }), /authentication/i);
    await assert.rejects(connectSSH2({ port: server.port, username: 'alice', privateKey: aliceKey.private }), /authentication/i);
    await assert.rejects(asAlice(otherKey.private, 'a-pass'), /authentication/i);
    await assert.rejects(asAlice(aliceKey.private, 'wrong'), /authentication/i);
  });

  it('does not let a key passed as alice count towards another user', async () => {
    // Key accepted as alice (partial), then a password as bob: refused (ssh2 even drops a connection that switches user).
    await assert.rejects(
      connectSSH2({
        port: server.port,
        username: 'alice',
        authHandler: inOrder(
          { type: 'publickey', username: 'alice', key: aliceKey.private },
          { type: 'password', username: 'bob', password: 'a-pass' },
        ),
      }),
      /authentication|PROTOCOL_ERROR/i,
    );
  });

  it('lets bob in with his password, to a shared read-only folder without alice\'s files', async () => {
    const connection = await connectSSH2({ port: server.port, username: 'bob', password: 'b-pass' });
    try {
      const sftp = await connection.sftp();
      const names = (await call<ssh2.FileEntryWithStats[]>((cb) => sftp.readdir('/', cb))).map((entry) => entry.filename);
      assert.deepEqual(names, ['welcome.txt']);
      assert.match((await call<Buffer>((cb) => sftp.readFile('/welcome.txt', cb))).toString(), /read-only/);
      await assert.rejects(done((cb) => sftp.writeFile('/new.txt', 'x', cb)), /Permission denied|Read-only/i);
    } finally {
      connection.end();
    }
  });

  it('refuses bob with a wrong password and users it does not know', async () => {
    await assert.rejects(connectSSH2({ port: server.port, username: 'bob', password: 'a-pass' }), /authentication/i);
    await assert.rejects(connectSSH2({ port: server.port, username: 'mallory', password: 'b-pass' }), /authentication/i);
  });
});
