import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FS } from '../../src/fs/FS.js';
import { hashPassword } from '../../src/server/auth/passwordHash.js';
import { parseConfig, type ServerConfig } from '../../src/server/config/loadConfig.js';
import { MultiUserServer } from '../../src/server/MultiUserServer.js';
import { spawnSync } from 'node:child_process';
import { CLI_PATH, runCLI, runOpenSSHSftp, startServe, type RunningCLI } from '../cli/cliProcess.js';
import { waitFor } from '../helpers/waitFor.js';
import { clientKey } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { runSftpBatch } from '../helpers/sftpBatch.js';
import { canLogIn, connectSsh2 } from '../helpers/ssh2Client.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

const skip = requireTool('sftp') || requireTool('ssh-keygen');

const keyLine = (name: string) => `ssh-ed25519 ${clientKey(name).publicKey.data.toString('base64')} ${name}@test`;

describe('MultiUserServer: users from a config, with real clients', { skip }, () => {
  const dir = makeTempDir();
  let server: TestServer;
  let multi: MultiUserServer;
  let config: ServerConfig;
  let configData: { users: Record<string, Record<string, unknown>> };

  before(async () => {
    writeFileSync(join(dir.path, 'bob-file.txt'), 'bob on disk');
    configData = {
      users: {
        alice: {
          passwordHash: await hashPassword('alice-pw', 'scrypt'),
          authorizedKeys: [keyLine('alice')],
          home: 'memory:',
          permissions: { '/': ['list', 'download', 'mkdir'], '/incoming': ['list', 'upload', 'mkdir'] },
        },
        bob: { passwordHash: await hashPassword('bob-pw', 'argon2'), authorizedKeys: [keyLine('bob')], home: dir.path, readOnly: true, maxSessions: 1 },
        carol: { passwordHash: await hashPassword('carol-pw', 'bcrypt'), home: 'memory:', allowedNetworks: ['10.0.0.0/8', '2001:db8::/32'] },
        dave: {
          authorizedKeys: [`from="10.*,!10.0.0.1" ${keyLine('dave')}`, `command="/usr/bin/true" ${keyLine('dave-forced')}`, `from="127.0.0.0/8" ${keyLine('dave-local')}`],
          home: 'memory:',
          mounts: { '/shared': { backend: dir.path, readOnly: true } },
        },
      },
    };
    config = parseConfig(configData, 'test config');
    server = await startTestServer({ create: (options) => (multi = new MultiUserServer({ ...options, config })) });
  });
  after(async () => {
    await server?.close();
    dir.remove();
  });

  it('passwords in each hash format: right ones log in, wrong ones and other users\' do not', async () => {
    assert.equal(await canLogIn(server.port, { username: 'alice', password: 'alice-pw' }), true);
    assert.equal(await canLogIn(server.port, { username: 'bob', password: 'bob-pw' }), true);
    assert.equal(await canLogIn(server.port, { username: 'alice', password: 'bob-pw' }), false);
    assert.equal(await canLogIn(server.port, { username: 'nobody', password: 'alice-pw' }), false);
    assert.equal(await canLogIn(server.port, { username: 'carol', password: 'carol-pw' }), false, 'carol may only connect from 10/8 or 2001:db8::/32');
  });

  it('OpenSSH sftp logs in with a password typed through SSH_ASKPASS, and a wrong one is refused', async () => {
    const good = await runOpenSSHSftp({ port: server.port, user: 'alice', identity: clientKey('nobody').path, password: 'alice-pw', commands: ['ls /'] });
    assert.equal(good.code, 0, good.stderr);
    const bad = await runOpenSSHSftp({ port: server.port, user: 'alice', identity: clientKey('nobody').path, password: 'wrong', commands: ['ls /'] });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Permission denied/);
  });

  it('keys: each user\'s own key only; from= and command= restrictions enforced', async () => {
    const local = makeTempDir();
    try {
      const ok = await runSftpBatch(server.port, clientKey('alice').path, ['ls /'], { user: 'alice' });
      assert.equal(ok.code, 0, ok.stderr);
      const wrongUser = await runSftpBatch(server.port, clientKey('alice').path, ['ls /'], { user: 'bob' });
      assert.notEqual(wrongUser.code, 0);
      assert.equal(await canLogIn(server.port, { username: 'dave', privateKey: clientKey('dave').privateKey }), false, 'from="10.*" refuses 127.0.0.1');
      assert.equal(await canLogIn(server.port, { username: 'dave', privateKey: clientKey('dave-forced').privateKey }), false, 'command= keys are refused');
      assert.equal(await canLogIn(server.port, { username: 'dave', privateKey: clientKey('dave-local').privateKey }), true);
    } finally {
      local.remove();
    }
  });

  it('per-path permissions through OpenSSH sftp: upload only under /incoming, no overwrite, no delete', async () => {
    const local = makeTempDir();
    try {
      writeFileSync(join(local.path, 'up.txt'), 'uploaded by alice');
      const run = (commands: string[]) => runSftpBatch(server.port, clientKey('alice').path, commands, { user: 'alice', cwd: local.path });
      const put = await run(['mkdir /incoming', 'put up.txt /incoming/up.txt', 'get /incoming/up.txt back.txt']);
      assert.notEqual(put.code, 0, 'get under /incoming is refused: no download permission there');
      assert.match(put.stderr, /Permission denied/);
      const fs = (await multi.getFS({ username: 'alice', clientAddress: '127.0.0.1', clientPort: 1, authMethods: ['publickey'] })) as FS;
      try {
        assert.equal((await fs.stat('/incoming/up.txt')).size, 'uploaded by alice'.length);
      } finally {
        multi.releaseFS(fs);
      }
      for (const refused of [['put up.txt /top.txt'], ['put up.txt /incoming/up.txt'], ['rm /incoming/up.txt'], ['rename /incoming/up.txt /incoming/moved.txt']]) {
        const result = await run(refused);
        assert.notEqual(result.code, 0, `${refused[0]} should be refused`);
        assert.match(result.stderr, /Permission denied|Failure/, refused[0]);
      }
      const mkdir = await run(['mkdir /incoming/sub', 'ls /incoming']);
      assert.equal(mkdir.code, 0, mkdir.stderr);
      assert.match(mkdir.stdout, /sub/);
    } finally {
      local.remove();
    }
  });

  it('read-only home on a local folder, mounts, and max sessions', async () => {
    const bob = await connectSsh2(server.port, { username: 'bob', privateKey: clientKey('bob').privateKey });
    try {
      assert.equal((await bob.p.readFile('/bob-file.txt')).toString(), 'bob on disk');
      await assert.rejects(bob.p.writeFile('/new.txt', 'x'), /Read-only filesystem|Permission denied/);
      // A second SFTP session of bob (maxSessions: 1) is refused while the first is open.
      await assert.rejects(new Promise((resolve, reject) => bob.client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp)))));
    } finally {
      await bob.close();
    }
    const dave = await connectSsh2(server.port, { username: 'dave', privateKey: clientKey('dave-local').privateKey });
    try {
      assert.equal((await dave.p.readFile('/shared/bob-file.txt')).toString(), 'bob on disk');
      await assert.rejects(dave.p.writeFile('/shared/x.txt', 'x'), /Read-only filesystem|Permission denied/);
      await dave.p.writeFile('/mine.txt', 'dave');
      assert.deepEqual((await dave.p.readdir('/')).map((entry) => entry.filename).sort(), ['mine.txt', 'shared']);
    } finally {
      await dave.close();
    }
  });

  it('a user\'s memory home is shared by their sessions and kept between them', async () => {
    const first = await connectSsh2(server.port, { username: 'dave', privateKey: clientKey('dave-local').privateKey });
    await first.p.writeFile('/kept.txt', 'kept');
    await first.close();
    const second = await connectSsh2(server.port, { username: 'dave', privateKey: clientKey('dave-local').privateKey });
    try {
      assert.equal((await second.p.readFile('/kept.txt')).toString(), 'kept');
    } finally {
      await second.close();
    }
  });

  it('reload adds a user and drops one while an existing session keeps working', async () => {
    const dave = await connectSsh2(server.port, { username: 'dave', privateKey: clientKey('dave-local').privateKey });
    try {
      assert.equal(await canLogIn(server.port, { username: 'erin', password: 'erin-pw' }), false);
      const { dave: _dropped, ...others } = configData.users;
      multi.reload(parseConfig({ users: { ...others, erin: { passwordHash: await hashPassword('erin-pw'), home: 'memory:' } } }, 'reloaded'));
      assert.equal(await canLogIn(server.port, { username: 'erin', password: 'erin-pw' }), true);
      assert.equal(await canLogIn(server.port, { username: 'dave', privateKey: clientKey('dave-local').privateKey }), false, 'dave is gone from the new config');
      // dave's session still reads and writes its filesystem, which stays open until it ends.
      await dave.p.writeFile('/after-reload.txt', 'still here');
      assert.equal((await dave.p.readFile('/after-reload.txt')).toString(), 'still here');
      assert.equal((await dave.p.readFile('/shared/bob-file.txt')).toString(), 'bob on disk');
    } finally {
      await dave.close();
    }
    assert.equal(readFileSync(join(dir.path, 'bob-file.txt'), 'utf8'), 'bob on disk');
  });
});

describe('sftp-expose serve --config and hash-password (the built CLI)', { skip }, () => {
  const dir = makeTempDir();
  const configFile = join(dir.path, 'users.yaml');
  let running: RunningCLI | undefined;
  after(async () => {
    await running?.stop();
    dir.remove();
  });

  /** Runs `sftp-expose hash-password` with the password on stdin; returns the printed hash. */
  const hashWithCli = (password: string, algorithm: string) => {
    const result = spawnSync(process.execPath, [CLI_PATH, 'hash-password', '--algorithm', algorithm], { input: `${password}\n`, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim();
  };

  it('hash-password prints a hash of each algorithm and refuses an unknown one', async () => {
    assert.match(hashWithCli('pw', 'scrypt'), /^\$scrypt\$ln=15,r=8,p=1\$/);
    assert.match(hashWithCli('pw', 'bcrypt'), /^\$2b\$12\$/);
    assert.match(hashWithCli('pw', 'argon2'), /^\$argon2id\$/);
    const bad = await runCLI(['hash-password', '--algorithm', 'md5'], dir.path);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid --algorithm "md5"/);
  });

  it('a bad config stops the start with the field named; BACKEND with --config is refused', async () => {
    writeFileSync(configFile, 'users:\n  amy:\n    password: plain\n    home: "memory:"\n');
    const bad = await runCLI(['serve', '--config', configFile], dir.path);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /users\.amy\.password: plain-text passwords are refused/);
    const clash = await runCLI(['serve', 'memory:', '--config', configFile], dir.path);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /drop the BACKEND argument/);
  });

  it('serves the users of the file; SIGHUP adds a user while an existing session keeps working', async () => {
    const home = join(dir.path, 'amy-home');
    (await import('node:fs')).mkdirSync(home);
    writeFileSync(configFile, `users:\n  amy:\n    passwordHash: "${hashWithCli('amy-pw', 'scrypt')}"\n    authorizedKeys: ["${keyLine('amy')}"]\n    home: amy-home\n`);
    running = await startServe(['--config', configFile], dir.path);
    const port = running.port;
    const sftp = await runSftpBatch(port, clientKey('amy').path, ['mkdir /from-openssh'], { user: 'amy' });
    assert.equal(sftp.code, 0, sftp.stderr);
    assert.equal((await import('node:fs')).statSync(join(home, 'from-openssh')).isDirectory(), true, 'the home is the folder next to the config file');

    const amy = await connectSsh2(port, { username: 'amy', password: 'amy-pw' });
    try {
      assert.equal(await canLogIn(port, { username: 'ben', password: 'ben-pw' }), false);
      writeFileSync(configFile, readFileSync(configFile, 'utf8') + `  ben:\n    passwordHash: "${hashWithCli('ben-pw', 'bcrypt')}"\n    home: "memory:"\n`);
      running.kill('SIGHUP');
      await waitFor(() => /configuration reloaded/.test(running!.stderr()), 'the reload log line', 15_000);
      assert.equal(await canLogIn(port, { username: 'ben', password: 'ben-pw' }), true);
      await amy.p.writeFile('/during.txt', 'written after the reload');
      assert.equal(readFileSync(join(home, 'during.txt'), 'utf8'), 'written after the reload');

      // A broken file on SIGHUP keeps the previous users.
      writeFileSync(configFile, 'users: [broken');
      running.kill('SIGHUP');
      await waitFor(() => /reload failed/.test(running!.stderr()), 'the failed reload log line', 15_000);
      assert.equal(await canLogIn(port, { username: 'ben', password: 'ben-pw' }), true);
    } finally {
      await amy.close();
    }
  });
});
