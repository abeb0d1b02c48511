import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError, parseServeOptions, type ServeOptions } from '../../src/cli/serveOptions.js';
import { attemptLogin } from '../helpers/loginAttempt.js';
import { connectClient, endClient } from '../helpers/ssh2Client.js';
import { makeTempDir, startServe } from './cliProcess.js';

const MiB = 1024 * 1024;
const parse = (...args: string[]) => parseServeOptions(['--no-auth', ...args]) as ServeOptions;

describe('serve defence flags', () => {
  it('leave the defaults alone when not given', () => {
    assert.deepEqual(parse().defence, { ban: {} });
  });

  it('map to the defence options', () => {
    const { defence } = parse(
      '--bwlimit', '1.5M:512k',
      '--max-connections', '100',
      '--max-connections-per-ip', '4',
      '--max-auth-tries', '3',
      '--login-grace-time', '30s',
      '--idle-timeout', '15m',
      '--ban-after', '5',
      '--ban-window', '1m',
      '--ban-time', '1h',
      '--ban-exempt', '10.0.0.0/8',
      '--proxy-protocol-from', '10.1.0.0/16',
      '--proxy-protocol-from', '2001:db8::1',
    );
    assert.deepEqual(defence, {
      ban: { maxFailures: 5, windowMs: 60_000, banMs: 3_600_000, exempt: ['10.0.0.0/8'] },
      bandwidth: { upload: 1.5 * MiB, download: 512 * 1024 },
      maxConnections: 100,
      maxConnectionsPerIP: 4,
      maxAuthTries: 3,
      loginGraceTimeMs: 30_000,
      idleTimeoutMs: 900_000,
      trustedProxies: ['10.1.0.0/16', '2001:db8::1'],
    });
  });

  it('--ban-after 0 turns banning off; --ban-exempt none exempts nothing', () => {
    assert.equal(parse('--ban-after', '0').defence.ban, false);
    assert.deepEqual(parse('--ban-exempt', 'none').defence.ban, { exempt: [] });
  });

  it('refuse bad values with a message naming the flag', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--bwlimit', 'fast'], /--bwlimit/],
      [['--bwlimit', '08:00,512k'], /timetables/],
      [['--max-connections', '-1'], /--max-connections/],
      [['--max-auth-tries', 'six'], /--max-auth-tries/],
      [['--idle-timeout', 'soon'], /--idle-timeout/],
      [['--proxy-protocol-from', 'lb.example.com'], /--proxy-protocol-from.*lb\.example\.com/],
      [['--ban-exempt', '10.0.0.0/99'], /--ban-exempt/],
    ];
    for (const [args, message] of cases) assert.throws(() => parse(...args), (error: Error) => error instanceof UsageError && message.test(error.message), args.join(' '));
  });

  it('the built CLI bans an address after --ban-after failures', async () => {
    const temp = await makeTempDir();
    const server = await startServe(['--user', 'demo', '--pass', 's3cret', '--ban-after', '2', '--ban-exempt', 'none', '--state-dir', join(temp.path, 'state')], temp.path);
    try {
      const login = (password: string) => connectClient(server.port, { username: 'demo', password });
      await endClient(await login('s3cret'));
      for (let i = 0; i < 2; i++) {
        const wrong = await attemptLogin(server.port, { username: 'demo', password: 'guess' });
        assert.ok(!wrong.loggedIn && wrong.errors.some((error) => /authentication methods failed/.test(error)), wrong.errors.join('; '));
      }
      const banned = await attemptLogin(server.port, { username: 'demo', password: 's3cret' });
      assert.equal(banned.loggedIn, false, 'banned: even the right password is refused');
      assert.match(server.stderr(), /address banned after failed authentications/);
    } finally {
      await server.stop();
      await temp.cleanup();
    }
  });
});
