import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig, parseConfig, parseConfigText } from '../../src/server/config/loadConfig.js';
import { clientKey } from '../helpers/keys.js';
import { makeTempDir } from '../helpers/tempDir.js';

const HASH = '$scrypt$ln=10,r=8,p=1$MDEyMzQ1Njc4OWFiY2RlZg$aMVTuQEI+jkaGyQcKvYHZwvQAIPq1C1TACYLFE9oZeo';
const keyLine = () => `ssh-ed25519 ${clientKey().publicKey.data.toString('base64')} alice@laptop`;

/** The message of the ConfigError `data` is refused with. */
function refusal(data: unknown): string {
  try {
    parseConfig(data, 'test.yaml', '/base');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('the config was accepted');
}

describe('config files', () => {
  const dir = makeTempDir();
  after(() => dir.remove());

  it('reads YAML with every per-user key, resolving folders and key files from its folder', () => {
    writeFileSync(join(dir.path, 'alice.keys'), `from="10.0.0.0/8,!10.9.9.9" ${keyLine()}\n`);
    const file = join(dir.path, 'sftp.yaml');
    writeFileSync(file, `
users:
  alice:
    passwordHash: "${HASH}"
    authorizedKeysFile: alice.keys
    authorizedKeys:
      - "${keyLine()}"
    home: ./data/alice
    mounts:
      /shared: "memory:"
      /docs: { backend: /srv/docs, readOnly: true }
    readOnly: false
    permissions:
      /: [list, download]
      /incoming: ["*"]
    maxSessions: 2
    allowedNetworks: [10.0.0.0/8, "2001:db8::/32", 127.0.0.1]
    bandwidth: 1.5M:512k
    totp: { secret: GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ, digits: 6 }
`);
    const config = loadConfig(file);
    const alice = config.users.get('alice')!;
    assert.equal(alice.home, join(dir.path, 'data/alice'));
    assert.deepEqual(alice.mounts, [
      { point: '/shared', backend: 'memory:', readOnly: false },
      { point: '/docs', backend: '/srv/docs', readOnly: true },
    ]);
    assert.equal(alice.authorizedKeys.length, 2);
    const restricted = alice.authorizedKeys.find((key) => key.from !== undefined)!;
    assert.equal(restricted.from!.allows('10.1.2.3'), true);
    assert.equal(restricted.from!.allows('10.9.9.9'), false);
    assert.equal(restricted.from!.allows('192.168.1.1'), false);
    assert.deepEqual([...alice.permissions!.get('/')!], ['list', 'download']);
    assert.equal(alice.permissions!.get('/incoming')!.size, 9);
    assert.equal(alice.maxSessions, 2);
    assert.equal(alice.allowedNetworks!.contains('10.200.0.1'), true);
    assert.equal(alice.allowedNetworks!.contains('::ffff:10.200.0.1'), true);
    assert.equal(alice.allowedNetworks!.contains('2001:db8::7'), true);
    assert.equal(alice.allowedNetworks!.contains('127.0.0.2'), false);
    assert.deepEqual(alice.bandwidth, { upload: 1.5 * 1024 * 1024, download: 512 * 1024 });
    assert.equal(alice.totp!.secret, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });

  it('reads JSON by extension, and reports JSON syntax errors as such', () => {
    const file = join(dir.path, 'sftp.json');
    writeFileSync(file, JSON.stringify({ users: { bob: { passwordHash: HASH, home: 'memory:', bandwidth: '10M' } } }));
    assert.deepEqual(loadConfig(file).users.get('bob')!.bandwidth, { upload: 10 * 1024 * 1024, download: 10 * 1024 * 1024 });
    assert.throws(() => parseConfigText('{"users": ', 'x.json', '/'), /x\.json is not valid JSON/);
    assert.throws(() => parseConfigText('users: [a\n b', 'x.yaml', '/'), /x\.yaml is not valid YAML/);
  });

  it('names the path of each bad field', () => {
    const message = refusal({
      users: {
        alice: { passwordHash: 'hunter2', home: 'memory:', permissions: { '/x': ['list', 'fly'] }, allowedNetworks: ['10.0.0.0/33'], bandwidth: '08:00,512k', maxSessions: 0 },
        carol: { home: 'memory:', passwordHash: HASH, totp: { secret: 'AB' } },
      },
      extra: true,
    });
    for (const expected of [
      /users\.alice\.passwordHash: not a password hash/,
      /users\.alice\.permissions\.\/x\.1: /,
      /users\.alice\.allowedNetworks\.0: "10\.0\.0\.0\/33": the prefix length must be 0\.\.32/,
      /users\.alice\.bandwidth: .*timetables are not supported/,
      /users\.alice\.maxSessions: /,
      /users\.carol\.totp\.secret: the secret must be at least 80 bits/,
      /\(top level\): .*extra/,
    ]) assert.match(message, expected);
  });

  it('publishes local uploads atomically unless atomicUploads is false', () => {
    const user = { users: { a: { authorizedKeys: [keyLine()], home: 'memory:' } } };
    assert.equal(parseConfig(user).atomicUploads, true);
    assert.equal(parseConfig({ ...user, atomicUploads: false }).atomicUploads, false);
    assert.throws(() => parseConfig({ ...user, atomicUploads: 'yes' }, 't.yaml'), /atomicUploads/);
  });

  it('refuses plain-text passwords unless allowPlaintextPasswords is set', () => {
    assert.match(refusal({ users: { a: { password: 'pw', home: 'memory:' } } }), /users\.a\.password: plain-text passwords are refused/);
    const config = parseConfig({ allowPlaintextPasswords: true, users: { a: { password: 'pw', home: 'memory:' } } });
    assert.equal(config.users.get('a')!.plaintextPassword, 'pw');
  });

  it('refuses users who could never log in or would have no filesystem, and unknown keys', () => {
    assert.match(refusal({ users: { a: { home: 'memory:' } } }), /users\.a: the user has no way to log in/);
    assert.match(refusal({ users: { a: { passwordHash: HASH } } }), /users\.a: the user has no filesystem/);
    assert.match(refusal({ users: { a: { passwordHash: HASH, home: 'memory:', homeDir: '/x' } } }), /users\.a: .*homeDir/);
    assert.match(refusal({ users: { 'a b': { passwordHash: HASH, home: 'memory:' } } }), /users\.a b: a user name/);
    assert.match(refusal({ users: { a: { passwordHash: HASH, mounts: { relative: 'memory:' } } } }), /users\.a\.mounts\.relative: must be an absolute path/);
  });

  it('names the line of a bad authorized key, and a missing key file', () => {
    assert.throws(() => parseConfig({ users: { a: { authorizedKeys: [keyLine(), 'ssh-ed25519 notbase64'], home: 'memory:' } } }, 't.yaml'), /t\.yaml: users\.a\.authorizedKeys: inline, line 2: /);
    assert.throws(() => parseConfig({ users: { a: { authorizedKeys: [`frobnicate ${keyLine()}`], home: 'memory:' } } }, 't.yaml'), /unknown option "frobnicate"/);
    assert.throws(() => parseConfig({ users: { a: { authorizedKeys: [`from="10.0.0.0/40" ${keyLine()}`], home: 'memory:' } } }, 't.yaml'), /from="10\.0\.0\.0\/40"/);
    assert.throws(() => parseConfig({ users: { a: { authorizedKeysFile: 'nope.keys', home: 'memory:' } } }, 't.yaml', dir.path), /users\.a\.authorizedKeysFile: cannot read .*nope\.keys/);
  });

  it('keeps command= keys (refused at login) and parses expiry-time', () => {
    const config = parseConfig({ users: { a: { authorizedKeys: [`command="/bin/false",no-pty ${keyLine()}`, `expiry-time="20200101Z" ${keyLine()}`], home: 'memory:' } } });
    const [forced, expiring] = config.users.get('a')!.authorizedKeys;
    assert.equal(forced!.command, '/bin/false');
    assert.equal(expiring!.expiresAt!.toISOString(), '2020-01-01T00:00:00.000Z');
  });
});
