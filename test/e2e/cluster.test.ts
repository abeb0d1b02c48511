/**
 * `sftp-expose serve --workers N`: the built CLI as a Node cluster. Sessions
 * are traced to worker processes by the `[worker PID] user logged in` lines
 * each worker logs, and the pids are checked against /proc (alive, children
 * of the same primary, gone after SIGTERM).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectSSH2, makeClientKey, makeTempDir, requireTool, runCLI, runOpenSSHSftp, startServe, type RunningCLI, type SSH2Connection } from '../cli/cliProcess.js';
import { attemptLogin } from '../helpers/loginAttempt.js';
import { connectClient, endClient } from '../helpers/ssh2Client.js';
import { parentOf } from '../helpers/processes.js';
import { waitFor } from '../helpers/waitFor.js';

/** Pids of the workers that logged a login, in order of the lines. */
function loginPids(stderr: string): number[] {
  return [...stderr.matchAll(/\[worker (\d+)\] user logged in/g)].map((match) => Number(match[1]));
}

/** Pids of the workers that logged a refused connection. */
function refusingPids(stderr: string): Set<number> {
  return new Set([...stderr.matchAll(/\[worker (\d+)\] connection refused/g)].map((match) => Number(match[1])));
}

/** Kills worker `victim` and resolves with the pid of the worker the primary starts in its place, once that listens. */
async function killAndAwaitReplacement(server: RunningCLI, victim: number): Promise<number> {
  process.kill(victim, 'SIGKILL');
  const replaced = new RegExp(`worker ${victim} exited \\(SIGKILL\\): replaced by worker (\\d+)`);
  await waitFor(() => replaced.test(server.stderr()), 'the replacement to be logged', 20_000);
  const replacement = Number(replaced.exec(server.stderr())![1]);
  await waitFor(() => server.stderr().includes(`worker ${replacement} listening`), 'the replacement to listen', 20_000);
  return replacement;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('serve --workers', () => {
  let home: Awaited<ReturnType<typeof makeTempDir>>;
  let data: string;
  let identity: string;
  const privateKey = () => readFileSync(identity);

  before(async () => {
    home = await makeTempDir('sftp-expose-cluster-');
    data = join(home.path, 'data');
    await mkdir(data);
    identity = makeClientKey(home.path);
  });
  after(() => home.cleanup());

  const serve = (workers = 2) => startServe([data, '--workers', String(workers), '--authorized-keys', `${identity}.pub`, '--log-format', 'text'], home.path);

  it('spreads sessions over the workers, which share the host key and the folder, and SIGTERM stops them all', async () => {
    const server = await serve();
    const connections: SSH2Connection[] = [];
    try {
      assert.match(server.stderr(), /2 worker processes/);
      // Held open together, so each new one is handed to the worker whose turn it is.
      for (let i = 0; i < 6; i++) connections.push(await connectSSH2({ port: server.port, username: 'u', privateKey: privateKey() }));
      await waitFor(() => loginPids(server.stderr()).length === 6, 'six logins logged');
      const pids = new Set(loginPids(server.stderr()));
      assert.equal(pids.size, 2, `sessions served by ${[...pids].join(', ')}`);
      const [first, second] = [...pids];
      assert.ok(isAlive(first!) && isAlive(second!));
      assert.equal(parentOf(first!), parentOf(second!), 'both workers are children of the one primary');
      assert.notEqual(parentOf(first!), process.pid);

      // One identity: every session saw the same host key.
      for (const connection of connections) assert.ok(connection.hostKey.equals(connections[0]!.hostKey));

      // One folder: what a session on one worker writes, a session on the other reads.
      const sftps = await Promise.all(connections.map((connection) => connection.sftp()));
      await new Promise<void>((resolve, reject) => sftps[0]!.writeFile('/from-0', 'written through session 0', (e) => (e ? reject(e) : resolve())));
      const readBack = await new Promise<Buffer>((resolve, reject) => sftps[1]!.readFile('/from-0', (e, d) => (e ? reject(e) : resolve(d))));
      assert.equal(readBack.toString(), 'written through session 0');
      // Each worker writes the access lines of its own sessions.
      await waitFor(() => /\[worker \d+\] access .*\/from-0/.test(server.stderr()), 'the access line of the upload, from a worker');

      // SIGTERM with sessions still open: the primary and both workers exit.
      const exited = await server.stop('SIGTERM');
      assert.equal(exited.code, 0, exited.stderr);
      assert.ok(!isAlive(first!) && !isAlive(second!), 'no worker outlives the primary');
    } finally {
      for (const connection of connections) connection.end();
      await server.stop('SIGKILL').catch(() => {});
    }
  });

  it('serves OpenSSH sftp transfers through either worker', async (t) => {
    if (!requireTool(t, 'sftp')) return;
    const server = await serve();
    try {
      const local = join(home.path, 'upload.bin');
      const content = Buffer.alloc(300_000).map((_, i) => (i * 7) % 251);
      await writeFile(local, content);
      for (let i = 0; i < 4; i++) {
        const result = await runOpenSSHSftp({ port: server.port, user: 'u', identity, commands: [`put ${local} /up${i}.bin`, `get /up${i}.bin ${local}.${i}`] });
        assert.equal(result.code, 0, result.stderr);
        assert.ok((await readFile(`${local}.${i}`)).equals(content));
      }
      assert.equal(new Set(loginPids(server.stderr())).size, 2);
    } finally {
      await server.stop();
    }
  });

  it('replaces a worker that crashes, and keeps serving', async () => {
    const server: RunningCLI = await serve();
    try {
      const connection = await connectSSH2({ port: server.port, username: 'u', privateKey: privateKey() });
      connection.end();
      await waitFor(() => loginPids(server.stderr()).length === 1, 'a login logged');
      const victim = loginPids(server.stderr())[0]!;
      const replacement = await killAndAwaitReplacement(server, victim);
      // Enough new logins that both live workers get one; none can land on the dead one.
      for (let i = 0; i < 4; i++) (await connectSSH2({ port: server.port, username: 'u', privateKey: privateKey() })).end();
      await waitFor(() => loginPids(server.stderr()).length === 5, 'four more logins logged');
      const later = new Set(loginPids(server.stderr()).slice(1));
      assert.equal(later.size, 2);
      assert.ok(!later.has(victim));
      assert.ok(later.has(replacement), 'the replacement serves');
    } finally {
      const exited = await server.stop();
      assert.equal(exited.code, 0, exited.stderr);
    }
  });

  it('refuses --workers with --stdio, with memory:, with --metrics-addr, and when it is not a count', async () => {
    const stdio = await runCLI(['serve', data, '--stdio', '--workers', '2'], home.path);
    assert.equal(stdio.code, 2);
    assert.match(stdio.stderr, /--workers needs a TCP listener/);
    for (const args of [['--workers', '2'], ['memory:', '--workers', '2']]) {
      const memory = await runCLI(['serve', ...args, '--no-auth'], home.path);
      assert.equal(memory.code, 2);
      assert.match(memory.stderr, /each worker its own in-memory filesystem/);
    }
    const metrics = await runCLI(['serve', data, '--workers', '2', '--no-auth', '--metrics-addr', '127.0.0.1:0'], home.path);
    assert.equal(metrics.code, 2);
    assert.match(metrics.stderr, /--metrics-addr with --workers/);
    const zero = await runCLI(['serve', data, '--workers', '0', '--no-auth'], home.path);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /invalid --workers "0"/);
  });

  it('SIGHUP stops neither the cluster nor its sessions (nothing to reload without --config)', async () => {
    const server = await serve();
    const connection = await connectSSH2({ port: server.port, username: 'u', privateKey: privateKey() });
    try {
      await waitFor(() => loginPids(server.stderr()).length === 1, 'a login logged');
      server.kill('SIGHUP');
      await waitFor(() => /SIGHUP: nothing to reload/.test(server.stderr()), 'the primary to log the SIGHUP');
      const sftp = await connection.sftp();
      await new Promise<void>((resolve, reject) => sftp.writeFile('/after-hup', 'still here', (e) => (e ? reject(e) : resolve())));
      assert.equal(await readFile(join(data, 'after-hup'), 'utf8'), 'still here', 'the session goes on');
      for (let i = 0; i < 2; i++) (await connectSSH2({ port: server.port, username: 'u', privateKey: privateKey() })).end();
      await waitFor(() => loginPids(server.stderr()).length === 3, 'new logins after the SIGHUP');
    } finally {
      connection.end();
      const exited = await server.stop();
      assert.equal(exited.code, 0, exited.stderr);
    }
  });

  it('with --config, every worker serves the file\'s users, and SIGHUP reloads them all', async () => {
    const configFile = join(home.path, 'users.yaml');
    const keyLine = readFileSync(`${identity}.pub`, 'utf8').trim();
    const user = (name: string) => `  ${name}:\n    authorizedKeys: ["${keyLine}"]\n    home: data\n`;
    await writeFile(configFile, `users:\n${user('amy')}`);
    const server = await startServe(['--config', configFile, '--workers', '2', '--log-format', 'text'], home.path);
    const logins = (name: string) => Promise.all([0, 1, 2, 3].map(() => connectSSH2({ port: server.port, username: name, privateKey: privateKey() })));
    try {
      assert.match(server.stderr(), /2 worker processes[\s\S]*serving 1 user\(s\) from/);
      for (const connection of await logins('amy')) connection.end();
      await waitFor(() => loginPids(server.stderr()).length === 4, 'four logins of amy');
      assert.equal(new Set(loginPids(server.stderr())).size, 2, 'both workers serve amy');
      await assert.rejects(connectSSH2({ port: server.port, username: 'ben', privateKey: privateKey() }), 'ben is not in the file yet');

      await writeFile(configFile, `users:\n${user('amy')}${user('ben')}`);
      server.kill('SIGHUP');
      await waitFor(() => (server.stderr().match(/\[worker \d+\] configuration reloaded/g) ?? []).length === 2, 'both workers to reload');
      const before = loginPids(server.stderr()).length;
      for (const connection of await logins('ben')) connection.end();
      await waitFor(() => loginPids(server.stderr()).length === before + 4, 'four logins of ben');
      assert.equal(new Set(loginPids(server.stderr()).slice(before)).size, 2, 'both workers know ben');
    } finally {
      const exited = await server.stop();
      assert.equal(exited.code, 0, exited.stderr);
    }
  });

  it('a crashed worker\'s replacement learns the connections the others hold, and refuses past --max-connections-per-ip', async () => {
    const server = await startServe([data, '--workers', '2', '--user', 'u', '--pass', 'pw', '--max-connections-per-ip', '1'], home.path);
    const refusers = () => refusingPids(server.stderr());
    try {
      const held = await connectClient(server.port, { username: 'u', password: 'pw' });
      await waitFor(() => loginPids(server.stderr()).length === 1, 'the held login logged');
      const holder = loginPids(server.stderr())[0]!;
      // The next connection goes to the other worker, which refuses it: that is the one to crash.
      assert.equal((await attemptLogin(server.port, { username: 'u', password: 'pw' })).loggedIn, false);
      await waitFor(() => refusers().size === 1, 'the refusal logged');
      const victim = [...refusers()][0]!;
      assert.notEqual(victim, holder);
      const replacement = await killAndAwaitReplacement(server, victim);
      // It asks as it starts, and the answer can trail its first connections by a few milliseconds.
      for (let tries = 0; !refusers().has(replacement) && tries < 20; tries++) await attemptLogin(server.port, { username: 'u', password: 'pw' });
      assert.ok(refusers().has(replacement), `the replacement refuses too: ${server.stderr()}`);
      await endClient(held);
    } finally {
      await server.stop();
    }
  });

  it('holds a user\'s maxSessions across the workers', async () => {
    const configFile = join(home.path, 'max-sessions.yaml');
    const keyLine = readFileSync(`${identity}.pub`, 'utf8').trim();
    await writeFile(configFile, `users:\n  amy:\n    authorizedKeys: ["${keyLine}"]\n    home: data\n    maxSessions: 1\n`);
    const server = await startServe(['--config', configFile, '--workers', '2', '--log-format', 'text'], home.path);
    const session = async () => {
      const connection = await connectSSH2({ port: server.port, username: 'amy', privateKey: privateKey() });
      try {
        await connection.sftp();
        return connection;
      } catch {
        connection.end();
        return undefined;
      }
    };
    try {
      const first = await session();
      assert.ok(first, 'the first session opens');
      // Connections are handed to the workers in turn: both refuse a second session.
      for (let i = 0; i < 2; i++) assert.equal(await session(), undefined);
      const refusedBy = () => new Set([...server.stderr().matchAll(/\[worker (\d+)\] session refused: maxSessions reached/g)].map((match) => match[1]));
      await waitFor(() => refusedBy().size === 2, 'both workers to log their refusal'); // the log can trail the client's error
      first.end();
      let reopened: Awaited<ReturnType<typeof session>>;
      for (let tries = 0; !reopened && tries < 50; tries++) reopened = (await session()) ?? (await new Promise((resolve) => setTimeout(resolve, 100)), undefined);
      assert.ok(reopened, 'a session opens again once the first has closed');
      reopened.end();
    } finally {
      await server.stop();
    }
  });

  it('refuses --workers with --config when a user is served from memory:', async () => {
    const configFile = join(home.path, 'memory-users.yaml');
    await writeFile(configFile, `users:\n  amy:\n    authorizedKeys: ["${readFileSync(`${identity}.pub`, 'utf8').trim()}"]\n    home: "memory:"\n`);
    const result = await runCLI(['serve', '--config', configFile, '--workers', '2'], home.path);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--workers with user amy served from memory:/);
  });

  it('counts failed logins across the workers: --ban-after of them in all together ban the address in every worker', async () => {
    const server = await startServe([data, '--workers', '2', '--user', 'u', '--pass', 'right-password', '--ban-after', '3', '--ban-exempt', 'none'], home.path);
    try {
      // A connection each, handed out in turn: two failures reach one worker, one the other.
      for (let i = 0; i < 3; i++) assert.equal((await attemptLogin(server.port, { username: 'u', password: 'wrong' })).loggedIn, false);
      const failedIn = new Set([...server.stderr().matchAll(/\[worker (\d+)\] authentication failed/g)].map((match) => match[1]));
      assert.equal(failedIn.size, 2, 'the failures were spread over both workers');
      await waitFor(() => server.stderr().match(/address banned/g)?.length === 2, 'both workers banned the address');
      // Even the right password, on either worker, is refused now.
      for (let i = 0; i < 2; i++) assert.equal((await attemptLogin(server.port, { username: 'u', password: 'right-password' })).loggedIn, false);
      assert.doesNotMatch(server.stderr(), /user logged in/);
    } finally {
      await server.stop();
    }
  });

  it('holds --max-connections-per-ip across the workers, and frees the slot when the connection closes', async () => {
    const server = await startServe([data, '--workers', '2', '--user', 'u', '--pass', 'pw', '--max-connections-per-ip', '1'], home.path);
    try {
      const first = await connectClient(server.port, { username: 'u', password: 'pw' });
      // The next connections are handed to the workers in turn: each refuses, the one without the first connection too.
      for (let i = 0; i < 2; i++) assert.equal((await attemptLogin(server.port, { username: 'u', password: 'pw' })).loggedIn, false);
      await waitFor(() => refusingPids(server.stderr()).size === 2, 'both workers to log their refusal'); // the log can trail the closed socket
      await endClient(first);
      // Once every worker has heard of the close, logins on both succeed again (one at a time: the limit is 1).
      const loggedInBy = new Set<string>();
      for (let tries = 0; loggedInBy.size < 2 && tries < 50; tries++) {
        const before = server.stderr().length;
        if ((await attemptLogin(server.port, { username: 'u', password: 'pw' })).loggedIn) {
          const worker = /\[worker (\d+)\] user logged in/.exec(server.stderr().slice(before))?.[1];
          if (worker) loggedInBy.add(worker);
        } else await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(loggedInBy.size, 2, `logins on both workers after the close: ${server.stderr()}`);
    } finally {
      await server.stop();
    }
  });

  it('a crashed worker\'s replacement takes on the bans in force', async () => {
    const server = await startServe([data, '--workers', '2', '--user', 'u', '--pass', 'right-password', '--ban-after', '1', '--ban-exempt', 'none'], home.path);
    try {
      assert.equal((await attemptLogin(server.port, { username: 'u', password: 'wrong' })).loggedIn, false);
      await waitFor(() => server.stderr().match(/address banned/g)?.length === 2, 'both workers banned the address');
      const victim = Number(/\[worker (\d+)\] address banned/.exec(server.stderr())![1]);
      const replacement = await killAndAwaitReplacement(server, victim);
      // It asks as it starts, and the answer can trail its first connections by a few milliseconds.
      const refused = () => refusingPids(server.stderr()).has(replacement);
      for (let tries = 0; !refused() && tries < 20; tries++) await attemptLogin(server.port, { username: 'u', password: 'right-password' });
      assert.ok(refused(), `the replacement refuses the banned address: ${server.stderr()}`);
    } finally {
      await server.stop();
    }
  });

  it('stops the cluster when workers cannot start (port taken)', async () => {
    const first = await serve(1);
    try {
      const second = await runCLI(['serve', data, '--workers', '2', '--addr', `127.0.0.1:${first.port}`, '--authorized-keys', `${identity}.pub`], home.path);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /address already in use/);
      assert.match(second.stderr, /before it listened: stopping/);
    } finally {
      await first.stop();
    }
  });
});
