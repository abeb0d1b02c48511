import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import diagnostics_channel from 'node:diagnostics_channel';
import { once } from 'node:events';
import { channelNames, type BanEvent } from '../../src/observability/events.js';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import type { Logger } from '../../src/logger.js';
import { AccessLog } from '../../src/observability/accessLog.js';
import type { BandwidthLimit } from '../../src/server/defence/bandwidth.js';
import { ManualClock } from '../../src/server/defence/clock.js';
import { PROXY_V2_SIGNATURE } from '../../src/server/defence/proxyProtocol.js';
import type { DefenceOptions } from '../../src/server/defence/Defence.js';
import type { BaseSFTPServerOptions, SessionInfo } from '../../src/ssh/BaseSFTPServer.js';
import { clientKey } from '../helpers/keys.js';
import { attemptLogin, type LoginOutcome } from '../helpers/loginAttempt.js';
import { connectClient, connectSsh2, endClient } from '../helpers/ssh2Client.js';
import { TEST_USER, TestSFTPServer, startTestServer, type TestServer } from '../helpers/testServer.js';
import { waitFor } from '../helpers/waitFor.js';

const PASSWORD = 'right horse battery';
const MiB = 1024 * 1024;

/** A TestSFTPServer with these defences; counts password checks; an optional per-user bandwidth limit. */
class DefendedServer extends TestSFTPServer {
  passwordChecks = 0;
  constructor(options: BaseSFTPServerOptions, readonly userLimit?: BandwidthLimit) {
    super(options, { username: TEST_USER, keys: [clientKey().publicKey], password: PASSWORD });
  }

  override checkAuthPassword(username: string, password: string) {
    this.passwordChecks++;
    return super.checkAuthPassword(username, password);
  }

  override getBandwidthLimit(_session: SessionInfo): BandwidthLimit | undefined {
    return this.userLimit;
  }
}

async function startDefended(defence: DefenceOptions, extra: { logger?: Logger; userLimit?: BandwidthLimit } = {}): Promise<TestServer & { server: DefendedServer }> {
  const started = await startTestServer({ logger: extra.logger, create: (options) => new DefendedServer({ ...options, defence }, extra.userLimit) });
  return started as TestServer & { server: DefendedServer };
}

const login = (port: number, password = PASSWORD) => connectClient(port, { username: TEST_USER, password });
const attempt = (port: number, password = PASSWORD) => attemptLogin(port, { username: TEST_USER, password });

/** Refused at the door: never logged in, and never got as far as an authentication failure. */
function assertRefused(outcome: LoginOutcome, what: string): void {
  assert.equal(outcome.loggedIn, false, what);
  assert.ok(!outcome.errors.some((error) => /authentication methods failed/.test(error)), `${what}: ${outcome.errors.join('; ')}`);
}

function assertWrongPassword(outcome: LoginOutcome): void {
  assert.equal(outcome.loggedIn, false);
  assert.ok(outcome.errors.some((error) => /authentication methods failed/.test(error)), outcome.errors.join('; '));
}

async function attemptThroughProxy(port: number, header: Buffer, password = PASSWORD): Promise<LoginOutcome> {
  const sock = connect(port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write(header);
  return attemptLogin(port, { username: TEST_USER, password }, sock);
}

/** Connects through a raw socket that first sends `header`, as HAProxy's send-proxy does. */
async function loginThroughProxy(port: number, header: Buffer, password = PASSWORD): Promise<ssh2.Client> {
  const sock = connect(port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write(header);
  const client = new ssh2.Client();
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve(client));
    client.on('error', (error) => {
      client.end();
      sock.destroy();
      reject(error);
    });
    client.once('close', () => reject(new Error('connection closed before login')));
    client.connect({ sock, username: TEST_USER, password, readyTimeout: 10_000 });
  });
}

function proxyV2(source: string, sourcePort: number): Buffer {
  const body = Buffer.alloc(12);
  Buffer.from(source.split('.').map(Number)).copy(body, 0);
  Buffer.from([127, 0, 0, 1]).copy(body, 4);
  body.writeUInt16BE(sourcePort, 8);
  body.writeUInt16BE(2022, 10);
  return Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x11, 0, 12]), body]);
}

/** A logger that keeps every line, for checking what the logs saw. */
function recordingLogger(): Logger & { lines: Array<{ message: string; details?: Record<string, unknown> }> } {
  const lines: Array<{ message: string; details?: Record<string, unknown> }> = [];
  const keep = (message: string, details?: Record<string, unknown>) => void lines.push({ message, details });
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

describe('defence against real clients', () => {
  const servers: TestServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const track = <T extends TestServer>(server: T) => (servers.push(server), server);

  it('bans an address after N failed logins, refuses it even with the right password, and lets it in when the ban expires', async () => {
    const clock = new ManualClock();
    const { port, server } = track(await startDefended({ ban: { maxFailures: 3, windowMs: 60_000, banMs: 600_000, exempt: [] }, clock }));
    const published: BanEvent[] = [];
    const onBan = (event: unknown) => published.push(event as BanEvent);
    diagnostics_channel.subscribe(channelNames.ban, onBan);
    try {
      for (let i = 0; i < 3; i++) assertWrongPassword(await attempt(port, 'wrong'));
    } finally {
      diagnostics_channel.unsubscribe(channelNames.ban, onBan);
    }
    assert.equal(server.defence.banList?.isBanned('127.0.0.1'), true);
    assert.deepEqual(published.map((event) => [event.clientAddress, event.failures, event.server === server]), [['127.0.0.1', 3, true]], 'the ban is published for metrics and embedders');
    const checksBefore = server.passwordChecks;
    assertRefused(await attempt(port), 'a banned address is dropped before it can authenticate');
    assert.equal(server.passwordChecks, checksBefore, 'no password was checked for the banned address');
    clock.advance(600_000);
    await endClient(await login(port));
  });

  it('drops a connection after max auth tries', async () => {
    const { port, server } = track(await startDefended({ ban: false, maxAuthTries: 2 }));
    let offered = 0;
    const client = new ssh2.Client();
    const closed = once(client, 'close');
    client.on('error', () => {});
    client.connect({
      host: '127.0.0.1',
      port,
      username: TEST_USER,
      readyTimeout: 10_000,
      authHandler: (_methods, _partial, next) => next({ type: 'password', username: TEST_USER, password: `guess ${++offered}` }),
    });
    await closed;
    assert.equal(server.passwordChecks, 2, 'the server checked two passwords, then hung up');
  });

  it('limits connections per source address', async () => {
    const { port, server } = track(await startDefended({ maxConnectionsPerIP: 2 }));
    const first = await login(port);
    const second = await login(port);
    assertRefused(await attempt(port), 'a third connection from 127.0.0.1 is refused');
    await endClient(first);
    await waitFor(() => server.defence.limits.count('127.0.0.1') === 1, 'the server to free the slot');
    const third = await login(port);
    await Promise.all([endClient(second), endClient(third)]);
  });

  it('closes an idle session, but not a busy one', async () => {
    const idleTimeoutMs = 300;
    const { port } = track(await startDefended({ idleTimeoutMs }));
    const busy = await connectSsh2(port, { username: TEST_USER, password: PASSWORD });
    const idle = await connectSsh2(port, { username: TEST_USER, password: PASSWORD });
    let idleClosed = false;
    idle.client.once('close', () => (idleClosed = true));
    const started = performance.now();
    // The busy client keeps asking for three idle timeouts; the other sends nothing.
    while (performance.now() - started < 3 * idleTimeoutMs) await busy.p.stat('/');
    await waitFor(() => idleClosed, 'the server to close the idle connection', 5_000);
    assert.ok(performance.now() - started >= idleTimeoutMs * 0.9, 'not closed before its timeout');
    await busy.p.stat('/'); // still open
    await busy.close();
  });

  describe('PROXY protocol', () => {
    let trusted: TestServer & { server: DefendedServer };
    const logger = recordingLogger();
    before(async () => {
      trusted = track(await startDefended({ trustedProxies: ['127.0.0.0/8'], ban: { maxFailures: 2, exempt: [] } }, { logger }));
    });

    it('a v1 header from a trusted proxy sets the client address sessions, logs and the access log see', async () => {
      const sessions: SessionInfo[] = [];
      trusted.server.on('session', (_session, info: SessionInfo) => sessions.push(info));
      const accessLog = new AccessLog(logger, { server: trusted.server });
      const client = await loginThroughProxy(trusted.port, Buffer.from('PROXY TCP4 198.51.100.23 127.0.0.1 51000 2022\r\n'));
      try {
        const sftp = await promisify(client.sftp.bind(client))();
        await new Promise<void>((resolve, reject) => sftp.mkdir('/made-through-proxy', (error) => (error ? reject(error) : resolve())));
        await waitFor(() => sessions.length === 1, 'the SFTP session');
        assert.equal(sessions[0]!.clientAddress, '198.51.100.23');
        assert.equal(sessions[0]!.clientPort, 51000);
        assert.ok(logger.lines.some((line) => line.message === 'user logged in' && line.details?.client === '198.51.100.23'));
        const access = logger.lines.find((line) => line.message === 'access' && line.details?.path === '/made-through-proxy');
        assert.equal(access?.details?.client, '198.51.100.23', JSON.stringify(access));
      } finally {
        accessLog.close();
        await endClient(client);
      }
    });

    it('a v2 header from a trusted proxy is what the ban list counts and bans', async () => {
      for (let i = 0; i < 2; i++) assertWrongPassword(await attemptThroughProxy(trusted.port, proxyV2('203.0.113.9', 40000 + i), 'wrong'));
      const bans = trusted.server.defence.banList!;
      assert.equal(bans.isBanned('203.0.113.9'), true);
      assert.equal(bans.isBanned('127.0.0.1'), false, 'the proxy itself is not banned');
      assertRefused(await attemptThroughProxy(trusted.port, proxyV2('203.0.113.9', 40009)), 'the banned client is refused through the proxy');
      await endClient(await loginThroughProxy(trusted.port, proxyV2('203.0.113.10', 40010)));
      await endClient(await login(trusted.port)); // a direct connection from the trusted host still works
    });

    it('a header from an address that is not a trusted proxy is refused', async () => {
      const { port, server } = track(await startDefended({ trustedProxies: ['192.0.2.1'] }));
      const refusals: string[] = [];
      server.defence.on('refused', (_address, reason) => refusals.push(reason));
      assertRefused(await attemptThroughProxy(port, Buffer.from('PROXY TCP4 198.51.100.23 127.0.0.1 51000 2022\r\n')), 'a header from an untrusted address');
      assert.deepEqual(refusals, ['untrusted proxy header']);
      await endClient(await login(port)); // without a header, the same address gets in
    });
  });

  describe('bandwidth', () => {
    const data = randomBytes(10 * MiB);
    const sha = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');

    it('a 10 MiB download and upload under a 5 MiB/s limit take at least 1.8 s each', async () => {
      const { port, fs } = track(await startDefended({ bandwidth: { upload: 5 * MiB, download: 5 * MiB } }));
      await fs.writeFile('/big', data);
      const conn = await connectSsh2(port, { username: TEST_USER, password: PASSWORD });
      try {
        let started = performance.now();
        const downloaded = await conn.p.readFile('/big');
        const downloadSeconds = (performance.now() - started) / 1000;
        assert.equal(sha(downloaded), sha(data));
        started = performance.now();
        await conn.p.writeFile('/up', data);
        const uploadSeconds = (performance.now() - started) / 1000;
        assert.equal(sha(await fs.readFile('/up')), sha(data));
        assert.ok(downloadSeconds >= 1.8, `download took ${downloadSeconds.toFixed(2)} s`);
        assert.ok(uploadSeconds >= 1.8, `upload took ${uploadSeconds.toFixed(2)} s`);
      } finally {
        await conn.close();
      }
    });

    it("a user's own limit applies on top of the global one", async () => {
      const { port, fs } = track(await startDefended({}, { userLimit: { download: 1.5 * MiB } }));
      await fs.writeFile('/three', data.subarray(0, 3 * MiB));
      const conn = await connectSsh2(port, { username: TEST_USER, password: PASSWORD });
      try {
        const started = performance.now();
        await conn.p.readFile('/three');
        const seconds = (performance.now() - started) / 1000;
        assert.ok(seconds >= 1.8, `3 MiB at 1.5 MiB/s took ${seconds.toFixed(2)} s`);
      } finally {
        await conn.close();
      }
    });

    it('without a limit, 10 MiB goes both ways byte for byte', async () => {
      const { port, fs } = track(await startDefended({}));
      const conn = await connectSsh2(port, { username: TEST_USER, password: PASSWORD });
      try {
        await conn.p.writeFile('/up', data);
        assert.ok((await fs.readFile('/up')).equals(data));
        assert.ok((await conn.p.readFile('/up')).equals(data));
      } finally {
        await conn.close();
      }
    });
  });
});
