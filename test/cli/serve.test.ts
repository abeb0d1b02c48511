import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { reportedPackages, REPORT_PACKAGES } from '../helpers/packageReport.js';
import { connectSSH2, makeClientKey, makeTempDir, requireTool, runOpenSSHSftp, startServe, type RunningCLI } from './cliProcess.js';

/** Runs `body` with a fresh temp dir and a started CLI server (`nodeArgs`: flags for node), stopping and removing both after. */
async function withServer(args: (dir: string) => Promise<string[]> | string[], body: (server: RunningCLI, dir: string) => Promise<void>, nodeArgs: string[] = []): Promise<void> {
  const temp = await makeTempDir();
  let server: RunningCLI | undefined;
  try {
    server = await startServe([...(await args(temp.path)), '--state-dir', join(temp.path, 'state')], temp.path, nodeArgs);
    await body(server, temp.path);
  } finally {
    await server?.stop();
    await temp.cleanup();
  }
}

async function authorizedKeysFor(dir: string): Promise<{ identity: string; authorizedKeys: string }> {
  const identity = makeClientKey(dir);
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(`${identity}.pub`));
  return { identity, authorizedKeys };
}

describe('sftp-expose serve', () => {
  it('serves the memory backend by default to a user with --user/--pass (ssh2 client)', async () => {
    await withServer(
      () => ['--user', 'demo', '--pass', 's3cret'],
      async (server) => {
        assert.match(server.stderr(), /serving memory:/);
        const connection = await connectSSH2({ port: server.port, username: 'demo', password: 's3cret' });
        try {
          const sftp = await connection.sftp();
          const write = (path: string, data: string) => new Promise<void>((resolve, reject) => sftp.writeFile(path, data, (e) => (e ? reject(e) : resolve())));
          const read = (path: string) => new Promise<Buffer>((resolve, reject) => sftp.readFile(path, (e, d) => (e ? reject(e) : resolve(d))));
          const list = (path: string) => new Promise<string[]>((resolve, reject) => sftp.readdir(path, (e, l) => (e ? reject(e) : resolve(l.map((x) => x.filename)))));
          await write('/hello.txt', 'hello from ssh2');
          assert.equal((await read('/hello.txt')).toString(), 'hello from ssh2');
          assert.deepEqual(await list('/'), ['hello.txt']);
        } finally {
          connection.end();
        }
      },
    );
  });

  it('lets OpenSSH sftp log in with --user/--pass and refuses a wrong password', async (t) => {
    if (!requireTool(t, 'sftp') || !requireTool(t, 'ssh-keygen')) return;
    await withServer(
      () => ['--user', 'demo', '--pass', 's3cret'],
      async (server, dir) => {
        // An identity the server does not know: OpenSSH offers it, is refused, and falls back to the password.
        const identity = makeClientKey(dir);
        const ok = await runOpenSSHSftp({ port: server.port, user: 'demo', identity, password: 's3cret', commands: ['mkdir /made-by-openssh', 'ls -1 /'] });
        assert.equal(ok.code, 0, ok.stderr);
        assert.match(ok.stdout, /made-by-openssh/);
        const wrong = await runOpenSSHSftp({ port: server.port, user: 'demo', identity, password: 'guess', commands: ['ls -1 /'] });
        assert.notEqual(wrong.code, 0);
        assert.match(wrong.stderr, /Permission denied/);
      },
    );
  });

  it('refuses a wrong password and a wrong user name', async () => {
    await withServer(
      () => ['--user', 'demo', '--pass', 's3cret'],
      async (server) => {
        await assert.rejects(connectSSH2({ port: server.port, username: 'demo', password: 'wrong' }), /authentication/i);
        await assert.rejects(connectSSH2({ port: server.port, username: 'root', password: 's3cret' }), /authentication/i);
      },
    );
  });

  it('serves a local folder to OpenSSH sftp with a key from --authorized-keys', async (t) => {
    if (!requireTool(t, 'sftp') || !requireTool(t, 'ssh-keygen')) return;
    await withServer(
      async (dir) => {
        const served = join(dir, 'served');
        await mkdir(served);
        await writeFile(join(served, 'existing.txt'), 'was already on disk');
        const { authorizedKeys } = await authorizedKeysFor(dir);
        return [served, '--authorized-keys', authorizedKeys];
      },
      async (server, dir) => {
        await writeFile(join(dir, 'upload.txt'), 'uploaded by OpenSSH');
        const result = await runOpenSSHSftp({
          port: server.port, user: 'anyone', identity: join(dir, 'id_ed25519'), cwd: dir,
          commands: ['put upload.txt /upload.txt', 'get /existing.txt downloaded.txt', 'ls -1 /'],
        });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(await readFile(join(dir, 'served', 'upload.txt'), 'utf8'), 'uploaded by OpenSSH');
        assert.equal(await readFile(join(dir, 'downloaded.txt'), 'utf8'), 'was already on disk');
        assert.match(result.stdout, /existing\.txt/);
      },
    );
  });

  it('with --user and authorized keys, accepts the key only for that user name', async (t) => {
    if (!requireTool(t, 'sftp') || !requireTool(t, 'ssh-keygen')) return;
    await withServer(
      async (dir) => ['--user', 'alice', '--authorized-keys', (await authorizedKeysFor(dir)).authorizedKeys],
      async (server, dir) => {
        const identity = join(dir, 'id_ed25519');
        const asAlice = await runOpenSSHSftp({ port: server.port, user: 'alice', identity, commands: ['pwd'] });
        assert.equal(asAlice.code, 0, asAlice.stderr);
        const asMallory = await runOpenSSHSftp({ port: server.port, user: 'mallory', identity, commands: ['pwd'] });
        assert.notEqual(asMallory.code, 0);
        assert.match(asMallory.stderr, /Permission denied/);
      },
    );
  });

  it('with --read-only, OpenSSH put fails with "Permission denied" and get still works', async (t) => {
    if (!requireTool(t, 'sftp') || !requireTool(t, 'ssh-keygen')) return;
    await withServer(
      async (dir) => {
        const served = join(dir, 'served');
        await mkdir(served);
        await writeFile(join(served, 'public.txt'), 'read me');
        return [served, '--read-only', '--authorized-keys', (await authorizedKeysFor(dir)).authorizedKeys];
      },
      async (server, dir) => {
        assert.match(server.stderr(), /\(read-only\)/);
        const identity = join(dir, 'id_ed25519');
        await writeFile(join(dir, 'upload.txt'), 'should not arrive');
        const put = await runOpenSSHSftp({ port: server.port, user: 'u', identity, cwd: dir, commands: ['put upload.txt /upload.txt'] });
        assert.notEqual(put.code, 0);
        assert.match(put.stderr, /Permission denied/);
        await assert.rejects(stat(join(dir, 'served', 'upload.txt')), { code: 'ENOENT' });
        const get = await runOpenSSHSftp({ port: server.port, user: 'u', identity, cwd: dir, commands: ['get /public.txt got.txt'] });
        assert.equal(get.code, 0, get.stderr);
        assert.equal(await readFile(join(dir, 'got.txt'), 'utf8'), 'read me');
      },
    );
  });

  it('with --no-auth lets a client in with the "none" method', async () => {
    await withServer(
      () => ['--no-auth'],
      async (server) => {
        assert.match(server.stderr(), /WARN --no-auth/);
        // ssh2's client tries "none" first when given neither password nor key.
        const connection = await connectSSH2({ port: server.port, username: 'whoever' });
        try {
          const sftp = await connection.sftp();
          const entries = await new Promise<unknown[]>((resolve, reject) => sftp.readdir('/', (e, l) => (e ? reject(e) : resolve(l))));
          assert.deepEqual(entries, []);
        } finally {
          connection.end();
        }
      },
    );
  });

  it('listens on [::1] when asked to, printing the address in brackets', async (t) => {
    const temp = await makeTempDir();
    let server: RunningCLI | undefined;
    try {
      try {
        server = await startServe(['--no-auth', '--addr', '[::1]:0', '--state-dir', join(temp.path, 'state')], temp.path);
      } catch (error) {
        if (/EADDRNOTAVAIL|EAFNOSUPPORT/.test(String(error))) return t.skip('no IPv6 loopback on this machine');
        throw error;
      }
      assert.match(server.stderr(), /listening on \[::1\]:\d+$/m);
    } finally {
      await server?.stop();
      await temp.cleanup();
    }
  });

  it('stops gracefully on a SIGTERM sent as soon as "listening on" is logged, metrics endpoint included, with or without --config', async () => {
    const single = (dir: string) => ['--no-auth', dir];
    const multiUser = async (dir: string) => {
      await writeFile(join(dir, 'users.yaml'), 'users: {}\n');
      return ['--config', join(dir, 'users.yaml')];
    };
    for (const args of [single, single, multiUser, multiUser]) {
      await withServer(
        async (dir) => ['--metrics-addr', '127.0.0.1:0', ...(await args(dir))],
        async (server) => {
          const exit = await server.stop();
          assert.equal(exit.code, 0, `exit ${exit.code} (signal ${exit.signal}):\n${exit.stderr}`);
          assert.match(exit.stderr, /stopped/);
        },
      );
    }
  });

  it('stops on SIGTERM and on SIGINT with exit code 0, even with a client connected', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const temp = await makeTempDir();
      try {
        const server = await startServe(['--user', 'demo', '--pass', 'demo', '--state-dir', join(temp.path, 'state')], temp.path);
        const connection = await connectSSH2({ port: server.port, username: 'demo', password: 'demo' });
        const closed = new Promise<void>((resolve) => connection.client.on('close', () => resolve()));
        await connection.sftp();
        const exited = await server.stop(signal);
        assert.equal(exited.code, 0, exited.stderr);
        assert.match(exited.stderr, new RegExp(`${signal}: closing connections`));
        assert.match(exited.stderr, /INFO stopped/);
        await closed;
      } finally {
        await temp.cleanup();
      }
    }
  });

  it('loads no config parser, password hasher or metrics library unless asked for them: each is memory every server process pays', async () => {
    const packagesLoadedBy = async (args: string[]) => {
      let packages: string[] = [];
      const report = async (server: RunningCLI) => {
        packages = reportedPackages((await server.stop()).stderr);
      };
      await withServer((dir) => [...args, '--no-auth', dir], report, ['--import', REPORT_PACKAGES]);
      return packages;
    };
    const plain = await packagesLoadedBy([]);
    assert.ok(plain.includes('ssh2'), `the report sees what is loaded: ${plain.join(', ')}`);
    for (const heavy of ['yaml', '@node-rs/argon2', 'prom-client', '@opentelemetry/api', '@aws-sdk/client-s3', 'webdav']) {
      assert.ok(!plain.includes(heavy), `${heavy} loaded by a serve with no flag that needs it`);
    }
    assert.ok((await packagesLoadedBy(['--metrics-addr', '127.0.0.1:0'])).includes('prom-client'), 'prom-client loaded once metrics are asked for');
  });
});
