import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalFS } from '../../src/backends/local.js';
import { parseConfig } from '../../src/server/config/loadConfig.js';
import { MultiUserServer } from '../../src/server/MultiUserServer.js';
import type { Session } from '../../src/sftp/Session.js';
import { clientKey } from '../helpers/keys.js';
import { connectSsh2 } from '../helpers/ssh2Client.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

/** Starts an upload over real SSH, writes part of it, then drops the connection; resolves once the server has released the session. */
async function dropMidUpload(server: TestServer, path: string, username = TEST_USER): Promise<void> {
  const sessionStarted = once(server.server, 'session');
  const connection = await connectSsh2(server.port, { username, privateKey: clientKey().privateKey });
  const [session] = (await sessionStarted) as [Session];
  const sessionClosed = once(session, 'close');
  const handle = await connection.p.open(path, 'w');
  await connection.p.write(handle, Buffer.alloc(100_000, 7), 0);
  connection.client.destroy();
  await sessionClosed;
}

describe('uploads cut off by a dropped session', () => {
  let served: ReturnType<typeof makeTempDir>;
  before(() => (served = makeTempDir('sftp-expose-atomic-')));
  after(() => served.remove());

  it('with atomic uploads: the real name keeps its old content and no partial file is left', async () => {
    const root = join(served.path, 'atomic');
    mkdirSync(root);
    writeFileSync(join(root, 'report.csv'), 'the complete old report');
    const server = await startTestServer({ fs: new LocalFS({ root, atomicUploads: true }) });
    try {
      await dropMidUpload(server, '/report.csv');
      await dropMidUpload(server, '/new.csv');
      assert.equal(readFileSync(join(root, 'report.csv'), 'utf8'), 'the complete old report');
      assert.deepEqual(readdirSync(root), ['report.csv'], 'neither a half-written new.csv nor a partial file');
      const connection = await connectSsh2(server.port, { username: TEST_USER, privateKey: clientKey().privateKey });
      await connection.p.writeFile('/report.csv', 'the new report');
      await connection.close();
      assert.equal(readFileSync(join(root, 'report.csv'), 'utf8'), 'the new report', 'a completed upload is published');
      assert.deepEqual(readdirSync(root), ['report.csv']);
    } finally {
      await server.close();
    }
  });

  it('a --config server publishes atomically by default: its users\' local homes never show a half-written file', async () => {
    const home = join(served.path, 'config-home');
    mkdirSync(home);
    writeFileSync(join(home, 'report.csv'), 'the complete old report');
    const keyLine = `ssh-ed25519 ${clientKey().publicKey.data.toString('base64')}`;
    const config = parseConfig({ users: { erin: { authorizedKeys: [keyLine], home } } }, 'test config');
    const server = await startTestServer({ create: (options) => new MultiUserServer({ ...options, config }) });
    try {
      await dropMidUpload(server, '/report.csv', 'erin');
      assert.equal(readFileSync(join(home, 'report.csv'), 'utf8'), 'the complete old report');
      assert.deepEqual(readdirSync(home), ['report.csv']);
    } finally {
      await server.close();
    }
  });

  it('without: the partial file stays, as with OpenSSH, so put -a can resume it', async () => {
    const root = join(served.path, 'in-place');
    mkdirSync(root);
    const server = await startTestServer({ fs: new LocalFS({ root }) });
    try {
      await dropMidUpload(server, '/partial.bin');
      assert.equal(readFileSync(join(root, 'partial.bin')).length, 100_000);
    } finally {
      await server.close();
    }
  });
});
