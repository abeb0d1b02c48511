import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import diagnostics_channel from 'node:diagnostics_channel';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { channelNames, type AuthEvent, type HandleCloseEvent, type RequestEvent, type SessionEndEvent, type SessionStartEvent } from '../../src/observability/events.js';
import { connectSSH2, makeClientKey, makeTempDir, requireTool, runOpenSSHSftp, startServe, type RunningCLI } from '../cli/cliProcess.js';
import { connectSsh2 } from '../helpers/ssh2Client.js';
import { startTestServer, TEST_USER } from '../helpers/testServer.js';
import { waitFor } from '../helpers/waitFor.js';

/** Runs `body` with a temp dir holding a client key and its authorized_keys file; removes it after. */
async function withKeys(body: (dir: string, identity: string, authorizedKeys: string) => Promise<void>): Promise<void> {
  const temp = await makeTempDir('sftp-expose-obs-');
  try {
    const identity = makeClientKey(temp.path);
    const authorizedKeys = join(temp.path, 'authorized_keys');
    await writeFile(authorizedKeys, await readFile(`${identity}.pub`));
    await body(temp.path, identity, authorizedKeys);
  } finally {
    await temp.cleanup();
  }
}

/** The JSON log lines a server wrote so far. */
function jsonLines(server: RunningCLI): Array<Record<string, unknown>> {
  return server
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Parses Prometheus text format into `name{a="x",b="y"}` (labels sorted) -> value. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => `${key}="${value}"`).sort();
    samples.set(`${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return samples;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  return parsePrometheus(await response.text());
}

/** A sample's value (0 when absent: counters with labels appear on first use). */
function sample(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  const key = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  return samples.get(`${name}{${key}}`) ?? 0;
}

describe('operations: access log, metrics, events, signals', () => {
  it('logs put/get/ls/rm of OpenSSH sftp as JSON access lines and counts them in /metrics', async (t) => {
    if (!requireTool(t, 'sftp') || !requireTool(t, 'ssh-keygen')) return;
    await withKeys(async (dir, identity, authorizedKeys) => {
      const size = 3 * 1024 * 1024 + 12_345;
      const local = join(dir, 'local.bin');
      await writeFile(local, randomBytes(size));
      const server = await startServe(
        ['--authorized-keys', authorizedKeys, '--log-format', 'json', '--metrics-addr', '127.0.0.1:0', '--state-dir', join(dir, 'state')],
        dir,
      );
      try {
        await waitFor(() => /metrics on http:\/\/\S+\/metrics/.test(server.stderr()), 'the metrics line');
        const url = /metrics on (http:\/\/\S+\/metrics)/.exec(server.stderr())![1]!.replace(/"$/, '');
        const before = await scrape(url);

        const result = await runOpenSSHSftp({
          port: server.port, user: 'carol', identity,
          commands: [`put ${local} /up.bin`, `get /up.bin ${join(dir, 'back.bin')}`, 'ls -l /', 'rm /up.bin'],
        });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(await readFile(join(dir, 'back.bin')), await readFile(local));

        const access = () => jsonLines(server).filter((line) => line.msg === 'access' && line.level === 30);
        await waitFor(() => access().some((line) => line.op === 'remove'), 'the access line of rm');
        const lines = access().map(({ user, client, op, path, bytes, status }) => ({ user, client, op, path, bytes, status }));
        assert.deepEqual(lines, [
          { user: 'carol', client: '127.0.0.1', op: 'upload', path: '/up.bin', bytes: size, status: 'OK' },
          { user: 'carol', client: '127.0.0.1', op: 'download', path: '/up.bin', bytes: size, status: 'OK' },
          { user: 'carol', client: '127.0.0.1', op: 'list', path: '/', bytes: 0, status: 'OK' },
          { user: 'carol', client: '127.0.0.1', op: 'remove', path: '/up.bin', bytes: 0, status: 'OK' },
        ]);
        for (const line of access()) assert.equal(typeof line.durationMs, 'number', JSON.stringify(line));

        const after = await scrape(url);
        const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
        assert.equal(delta('sftp_expose_received_bytes_total'), size);
        assert.equal(delta('sftp_expose_sent_bytes_total'), size);
        assert.equal(delta('sftp_expose_sessions_total'), 1);
        assert.equal(delta('sftp_expose_auth_attempts_total', { method: 'publickey', result: 'success' }), 1);
        assert.equal(delta('sftp_expose_operations_total', { operation: 'remove', status: 'OK' }), 1);
        assert.equal(delta('sftp_expose_operation_duration_seconds_count', { operation: 'remove', status: 'OK' }), 1);
        // Every WRITE counted, and each carried at most the 255 KiB the limits extension allows.
        const writes = delta('sftp_expose_operations_total', { operation: 'write', status: 'OK' });
        assert.ok(writes >= Math.ceil(size / (255 * 1024)) && writes <= size, `writes: ${writes}`);
        assert.ok(delta('sftp_expose_operations_total', { operation: 'read', status: 'OK' }) >= 1);
        assert.ok(sample(after, 'process_resident_memory_bytes') > 0, 'process metrics');
        const notFound = await fetch(url.replace('/metrics', '/other'));
        assert.equal(notFound.status, 404);
      } finally {
        await server.stop();
      }
    });
  });

  it('publishes auth, session and per-request events to diagnostics_channel subscribers', async () => {
    const seen = { auth: [] as AuthEvent[], start: [] as SessionStartEvent[], end: [] as SessionEndEvent[], request: [] as RequestEvent[], data: [] as RequestEvent[], handle: [] as HandleCloseEvent[] };
    const listeners: Array<[string, (message: unknown) => void]> = [
      [channelNames.auth, (m) => seen.auth.push(m as AuthEvent)],
      [channelNames.sessionStart, (m) => seen.start.push(m as SessionStartEvent)],
      [channelNames.sessionEnd, (m) => seen.end.push(m as SessionEndEvent)],
      [channelNames.request, (m) => seen.request.push(m as RequestEvent)],
      [channelNames.dataRequest, (m) => seen.data.push(m as RequestEvent)],
      [channelNames.handleClose, (m) => seen.handle.push(m as HandleCloseEvent)],
    ];
    for (const [name, listener] of listeners) diagnostics_channel.subscribe(name, listener);
    const server = await startTestServer({ password: 'right' });
    try {
      await assert.rejects(connectSsh2(server.port, { username: TEST_USER, password: 'wrong' }));
      const connection = await connectSsh2(server.port, { username: TEST_USER, password: 'right' });
      const data = randomBytes(100_000);
      try {
        await connection.p.writeFile('/events.bin', data);
        assert.deepEqual(await connection.p.readFile('/events.bin'), data);
        await connection.p.unlink('/events.bin');
        await assert.rejects(connection.p.stat('/events.bin'));
      } finally {
        await connection.close();
      }
      await waitFor(() => seen.end.length === 1, 'the session end event');

      const ours = (event: { server?: object }) => event.server === server.server;
      assert.deepEqual(seen.auth.filter(ours).filter((e) => e.method === 'password').map((e) => `${e.username} ${e.result} ${e.clientAddress}`), [
        `${TEST_USER} failure 127.0.0.1`,
        `${TEST_USER} success 127.0.0.1`,
      ]);
      assert.equal(seen.start.length, 1);
      const session = seen.start[0]!.session;
      assert.equal(session.username, TEST_USER);
      assert.equal(session.server, server.server);
      assert.deepEqual(seen.start[0]!.authMethods, ['password']);
      assert.equal(seen.end[0]!.session, session);
      assert.ok(seen.end[0]!.durationMs > 0);

      const requests = seen.request.filter((e) => e.session === session);
      const blocks = seen.data.filter((e) => e.session === session);
      assert.ok(requests.every((e) => e.op !== 'read' && e.op !== 'write'), 'READ and WRITE have a channel of their own');
      const bytes = (op: string) => blocks.filter((e) => e.op === op).reduce((sum, e) => sum + e.bytes, 0);
      assert.equal(bytes('write'), data.length);
      assert.equal(bytes('read'), data.length);
      assert.ok([...requests, ...blocks].every((e) => e.durationMs >= 0));
      assert.deepEqual(requests.filter((e) => e.op === 'remove').map((e) => [e.path, e.status]), [['/events.bin', 0]]);
      assert.deepEqual(requests.filter((e) => e.op === 'stat').map((e) => [e.path, e.status]).at(-1), ['/events.bin', 2]);
      assert.ok(blocks.filter((e) => e.op === 'write').every((e) => e.path === '/events.bin'), 'WRITE events name the handle path');

      assert.deepEqual(
        seen.handle.filter((e) => e.session === session).map((e) => ({ path: e.path, write: e.write, bytesRead: e.bytesRead, bytesWritten: e.bytesWritten, status: e.status })),
        [
          { path: '/events.bin', write: true, bytesRead: 0, bytesWritten: data.length, status: 0 },
          { path: '/events.bin', write: false, bytesRead: data.length, bytesWritten: 0, status: 0 },
        ],
      );
    } finally {
      for (const [name, listener] of listeners) diagnostics_channel.unsubscribe(name, listener);
      await server.close();
    }
  });

  it('SIGTERM lets an upload in progress finish, refuses new sessions, then exits 0', async () => {
    await withKeys(async (dir, _identity, authorizedKeys) => {
      const root = join(dir, 'root');
      const { mkdir } = await import('node:fs/promises');
      await mkdir(root);
      const server = await startServe([root, '--user', 'dave', '--pass', 'pw', '--state-dir', join(dir, 'state'), '--shutdown-timeout', '60s'], dir);
      let exited: ReturnType<RunningCLI['stop']> | undefined;
      try {
        const connection = await connectSSH2({ port: server.port, username: 'dave', password: 'pw' });
        const sftp = await connection.sftp();
        const call = <T>(start: (done: (error: Error | null | undefined, value?: T) => void) => void) =>
          new Promise<T>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))));
        const chunk = randomBytes(64 * 1024);
        const handle = await call<Buffer>((done) => sftp.open('/slow.bin', 'w', done));
        await call((done) => sftp.write(handle, chunk, 0, chunk.length, 0, done));

        server.kill('SIGTERM');
        await waitFor(() => /draining sessions/.test(server.stderr()), 'the server to start draining');
        // The listener is closed: a new client cannot even connect.
        await assert.rejects(connectSSH2({ port: server.port, username: 'dave', password: 'pw' }));
        // The slow client goes on, after the signal, and finishes its file.
        for (let i = 1; i < 4; i++) await call((done) => sftp.write(handle, chunk, 0, chunk.length, i * chunk.length, done));
        await call((done) => sftp.close(handle, done));

        // Its last file closed, the session ends and the server exits by itself: no second signal.
        exited = server.exited();
        const result = await exited;
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /SIGTERM: closing connections/);
        assert.doesNotMatch(result.stderr, /drain deadline passed/);
        const written = await readFile(join(root, 'slow.bin'));
        assert.equal(written.length, 4 * chunk.length);
        assert.deepEqual(written.subarray(3 * chunk.length), chunk);
        connection.end();
      } finally {
        await (exited ?? server.stop()).catch(() => {});
      }
    });
  });

  it('SIGTERM ends a session still holding a file once --shutdown-timeout has passed', async () => {
    await withKeys(async (dir) => {
      const server = await startServe(['--user', 'erin', '--pass', 'pw', '--state-dir', join(dir, 'state'), '--shutdown-timeout', '200ms'], dir);
      try {
        const connection = await connectSSH2({ port: server.port, username: 'erin', password: 'pw' });
        const closed = new Promise<void>((resolve) => connection.client.on('close', () => resolve()));
        const sftp = await connection.sftp();
        await new Promise<Buffer>((resolve, reject) => sftp.open('/never-closed.bin', 'w', (error, handle) => (error ? reject(error) : resolve(handle))));
        const result = await server.stop('SIGTERM');
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /drain deadline passed/);
        await closed;
      } finally {
        await server.stop().catch(() => {});
      }
    });
  });

  it('SIGHUP on a server without a configuration file logs it and keeps serving', async () => {
    await withKeys(async (dir) => {
      const server = await startServe(['--user', 'frank', '--pass', 'pw', '--state-dir', join(dir, 'state')], dir);
      try {
        const connection = await connectSSH2({ port: server.port, username: 'frank', password: 'pw' });
        const sftp = await connection.sftp();
        server.kill('SIGHUP');
        await waitFor(() => /SIGHUP: nothing to reload/.test(server.stderr()), 'the SIGHUP log line');
        // The session in progress and new logins both still work.
        await new Promise<void>((resolve, reject) => sftp.mkdir('/after-hup', (error) => (error ? reject(error) : resolve())));
        const second = await connectSSH2({ port: server.port, username: 'frank', password: 'pw' });
        second.end();
        connection.end();
        const result = await server.stop();
        assert.equal(result.code, 0, result.stderr);
      } finally {
        await server.stop().catch(() => {});
      }
    });
  });
});
