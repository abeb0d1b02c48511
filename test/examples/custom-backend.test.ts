import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type ssh2 from 'ssh2';
import { connectSSH2, makeTempDir, startExample, type RunningCLI } from '../cli/cliProcess.js';

const SCRIPT = fileURLToPath(new URL('../../examples/custom-backend.ts', import.meta.url));

const call = <T>(run: (callback: (error: Error | null | undefined, value: T) => void) => void) =>
  new Promise<T>((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));

describe('examples/custom-backend.ts run as a script', () => {
  let temp: { path: string; cleanup: () => Promise<void> };
  let server: RunningCLI;
  before(async () => {
    temp = await makeTempDir('sftp-expose-example-');
    server = await startExample(SCRIPT, temp.path);
  });
  after(async () => {
    await server?.stop();
    await temp?.cleanup();
  });

  it('serves its MapFS to demo/demo: the seeded file, an upload, a rename, a listing', async () => {
    const connection = await connectSSH2({ port: server.port, username: 'demo', password: 'demo' });
    try {
      const sftp: ssh2.SFTPWrapper = await connection.sftp();
      const welcome = await call<Buffer>((cb) => sftp.readFile('/welcome.txt', cb));
      assert.equal(welcome.toString(), 'Served from a JavaScript Map.\n');
      await call<void>((cb) => sftp.mkdir('/notes', (error) => cb(error, undefined)));
      await call<void>((cb) => sftp.writeFile('/notes/a.txt', 'first note', (error) => cb(error, undefined)));
      await call<void>((cb) => sftp.rename('/notes/a.txt', '/notes/b.txt', (error) => cb(error, undefined)));
      const names = await call<ssh2.FileEntryWithStats[]>((cb) => sftp.readdir('/notes', cb));
      assert.deepEqual(names.map((entry) => entry.filename), ['b.txt']);
      assert.equal((await call<Buffer>((cb) => sftp.readFile('/notes/b.txt', cb))).toString(), 'first note');
    } finally {
      connection.end();
    }
  });

  it('refuses a wrong password', async () => {
    await assert.rejects(connectSSH2({ port: server.port, username: 'demo', password: 'nope' }), /authentication/i);
  });
});
