import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '../../src/logger.js';
import { AuthProxy } from '../../src/server/auth/authProxy.js';
import { backendFromRcloneConfig } from '../../src/server/auth/proxyBackend.js';
import { obscure } from '../../src/server/auth/obscure.js';
import { parseConfig } from '../../src/server/config/loadConfig.js';
import { MultiUserServer } from '../../src/server/MultiUserServer.js';
import { clientKey } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { canLogIn, connectSsh2 } from '../helpers/ssh2Client.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

const skip = requireTool('ssh-keygen');
const FIXTURE = fileURLToPath(new URL('../fixtures/authProxy.mjs', import.meta.url));

/** A logger that keeps warnings, so the tests can read the logged reasons. */
function recordingLogger(): Logger & { warnings: Array<{ message: string; details?: Record<string, unknown> }> } {
  const warnings: Array<{ message: string; details?: Record<string, unknown> }> = [];
  const ignore = () => {};
  return { warnings, debug: ignore, info: ignore, error: ignore, warn: (message, details) => warnings.push({ message, details }) };
}

describe('--auth-proxy compatible program (rclone protocol)', { skip }, () => {
  const dir = makeTempDir();
  const root = join(dir.path, 'root');
  const calls = join(dir.path, 'calls.jsonl');
  let server: TestServer;
  let now = 1_000_000;
  const logger = recordingLogger();
  const previousEnv = { ...process.env };

  const callCount = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').length : 0);
  const lastReason = () => String(logger.warnings.at(-1)?.details?.reason ?? '');

  before(async () => {
    (await import('node:fs')).mkdirSync(root);
    writeFileSync(join(root, 'hello.txt'), 'from the proxy root');
    Object.assign(process.env, { AUTH_PROXY_CALLS: calls, AUTH_PROXY_ROOT: root, AUTH_PROXY_KEY: clientKey('proxy').publicKey.data.toString('base64') });
    const authProxy = new AuthProxy({ command: `${process.execPath} ${FIXTURE}`, timeoutMs: 1500, logger, now: () => now });
    server = await startTestServer({ logger, create: (options) => new MultiUserServer({ ...options, config: parseConfig({ users: {} }), authProxy }) });
  });
  after(async () => {
    await server?.close();
    process.env = previousEnv;
    dir.remove();
  });

  it('a password login gets the backend the program chose; the answer is cached', async () => {
    const before = callCount();
    const session = await connectSsh2(server.port, { username: 'good', password: 'good-pw' });
    try {
      assert.equal((await session.p.readFile('/hello.txt')).toString(), 'from the proxy root');
      await session.p.writeFile('/written.txt', 'via proxy');
    } finally {
      await session.close();
    }
    assert.equal(readFileSync(join(root, 'written.txt'), 'utf8'), 'via proxy');
    const input = JSON.parse(readFileSync(calls, 'utf8').trim().split('\n').at(-1)!);
    assert.deepEqual(input, { user: 'good', pass: 'good-pw', client_ip: '127.0.0.1' });
    assert.equal(await canLogIn(server.port, { username: 'good', password: 'good-pw' }), true);
    assert.equal(callCount(), before + 1, 'the second login came from the cache');
  });

  it('a different password is not served from the cache; the cache expires after 5 minutes', async () => {
    const before = callCount();
    assert.equal(await canLogIn(server.port, { username: 'good', password: 'other' }), false);
    assert.equal(callCount(), before + 1);
    assert.match(lastReason(), /exited with code 1: wrong password for good/);
    now += 5 * 60_000 + 1;
    assert.equal(await canLogIn(server.port, { username: 'good', password: 'good-pw' }), true);
    assert.equal(callCount(), before + 2, 'expired: the program ran again');
  });

  it('a key login sends public_key (base64 blob) and client_ip', async () => {
    const session = await connectSsh2(server.port, { username: 'keyed', privateKey: clientKey('proxy').privateKey });
    try {
      await session.p.writeFile('/m.txt', 'memory');
      assert.equal((await session.p.readFile('/m.txt')).toString(), 'memory');
    } finally {
      await session.close();
    }
    const input = JSON.parse(readFileSync(calls, 'utf8').trim().split('\n').at(-1)!);
    assert.equal(input.public_key, process.env.AUTH_PROXY_KEY);
    assert.equal(input.client_ip, '127.0.0.1');
    assert.equal(await canLogIn(server.port, { username: 'keyed', privateKey: clientKey('other').privateKey }), false);
  });

  it('a failing, hanging, or garbled program denies the login with a logged reason', async () => {
    const cases: Array<[string, RegExp]> = [
      ['fail', /exited with code 3: the directory service is down/],
      ['hang', /did not answer within 1500 ms/],
      ['badjson', /invalid JSON/],
      ['notype', /"type" not set/],
      ['ftp', /unsupported backend type "ftp"/],
    ];
    for (const [user, reason] of cases) {
      const started = Date.now();
      assert.equal(await canLogIn(server.port, { username: user, password: 'x' }), false, user);
      assert.match(lastReason(), reason, user);
      assert.ok(Date.now() - started < 10_000, `${user} was answered in bounded time`);
    }
  });
});

describe('rclone backend configs from a proxy', () => {
  it('maps sftp, webdav and s3 with _obscure honoured as rclone does', () => {
    const sftp = backendFromRcloneConfig({ type: 'sftp', _root: 'data', host: 'h.example', user: 'me', port: '2222', pass: obscure('s3cret') });
    assert.deepEqual(sftp, { spec: 'sftp://me@h.example:2222/~/data', flags: { 'sftp-pass': 's3cret' } });
    const plain = backendFromRcloneConfig({ type: 'sftp', _root: '/abs', host: 'h', pass: 'plain', _obscure: 'pass' });
    assert.deepEqual(plain, { spec: 'sftp://h/abs', flags: { 'sftp-pass': 'plain' } });
    assert.throws(() => backendFromRcloneConfig({ type: 'sftp', _root: '', host: 'h', pass: 'not obscured!' }), /"pass" is not obscured/);
    assert.deepEqual(backendFromRcloneConfig({ type: 'webdav', _root: 'sub', url: 'https://dav.example/base/', user: 'u', pass: obscure('p') }), {
      spec: 'webdav+https://dav.example/base/sub',
      flags: { 'webdav-user': 'u', 'webdav-pass': 'p' },
    });
    assert.deepEqual(backendFromRcloneConfig({ type: 's3', _root: 'bucket/prefix', endpoint: 'http://127.0.0.1:9000', access_key_id: 'a', secret_access_key: 'b', force_path_style: 'true' }), {
      spec: 's3://bucket/prefix',
      flags: { 's3-endpoint': 'http://127.0.0.1:9000', 's3-access-key-id': 'a', 's3-secret-access-key': 'b', 's3-force-path-style': true },
    });
    assert.deepEqual(backendFromRcloneConfig({ type: 's3', _root: 'bucket', use_unsigned_payload: 'false' }), {
      spec: 's3://bucket',
      flags: { 's3-use-unsigned-payload': 'false' },
    });
  });
});
