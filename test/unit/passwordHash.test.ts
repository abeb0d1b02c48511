import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { requireTool } from '../helpers/requireTool.js';
import { obscure, revealObscured } from '../../src/server/auth/obscure.js';
import { hashAlgorithm, hashPassword, PASSWORD_ALGORITHMS, UnknownHashFormat, verifyPassword } from '../../src/server/auth/passwordHash.js';
import { decodeBase32, totp, TotpVerifier } from '../../src/server/auth/totp.js';

describe('password hashes', () => {
  for (const algorithm of PASSWORD_ALGORITHMS) {
    it(`${algorithm}: a hash verifies its password and no other, with a fresh salt each time`, async () => {
      const hash = await hashPassword('correct horse', algorithm);
      assert.equal(hashAlgorithm(hash), algorithm);
      assert.equal(await verifyPassword('correct horse', hash), true);
      assert.equal(await verifyPassword('correct horsf', hash), false);
      assert.equal(await verifyPassword('', hash), false);
      assert.notEqual(await hashPassword('correct horse', algorithm), hash);
    });
  }

  it('scrypt uses the PHC string format with its parameters', async () => {
    const hash = await hashPassword('x', 'scrypt');
    assert.match(hash, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  });

  it('verifies scrypt hashes made elsewhere with other parameters (node:crypto directly)', async () => {
    const { scryptSync } = await import('node:crypto');
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('pw', salt, 32, { N: 1024, r: 4, p: 2 });
    const hash = `$scrypt$ln=10,r=4,p=2$${salt.toString('base64').replace(/=+$/, '')}$${key.toString('base64').replace(/=+$/, '')}`;
    assert.equal(await verifyPassword('pw', hash), true);
    assert.equal(await verifyPassword('pW', hash), false);
  });

  it('refuses what is not a hash, including plain text and absurd scrypt costs', () => {
    for (const text of ['hunter2', '$scrypt$ln=40,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA', '$2b$12$short', '$argon2id$nonsense', '$md5$x']) {
      assert.throws(() => hashAlgorithm(text), UnknownHashFormat, text);
    }
  });
});

describe('TOTP (RFC 6238 appendix B test vectors)', () => {
  // The RFC's seeds: the ASCII digits, repeated to the hash's block-ish length.
  const seeds = {
    sha1: Buffer.from('12345678901234567890'),
    sha256: Buffer.from('12345678901234567890123456789012'),
    sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
  };
  const vectors: Array<[number, string, string, string]> = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  for (const [seconds, sha1, sha256, sha512] of vectors) {
    it(`T=${seconds}`, () => {
      assert.equal(totp(seeds.sha1, seconds * 1000, { digits: 8, algorithm: 'sha1' }), sha1);
      assert.equal(totp(seeds.sha256, seconds * 1000, { digits: 8, algorithm: 'sha256' }), sha256);
      assert.equal(totp(seeds.sha512, seconds * 1000, { digits: 8, algorithm: 'sha512' }), sha512);
    });
  }

  it('decodes base32 as authenticator apps write it', () => {
    assert.deepEqual(decodeBase32('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), seeds.sha1);
    assert.deepEqual(decodeBase32('gezd gnbv gy3t qojq gezd gnbv gy3t qojq'), seeds.sha1);
    assert.throws(() => decodeBase32('GEZ1'), /invalid base32/);
  });

  it('accepts the current code and its neighbours within the window, once each', () => {
    let now = 1_700_000_000_000;
    const verifier = new TotpVerifier({ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' }, () => now);
    const code = totp(seeds.sha1, now);
    assert.equal(verifier.verify('000000') && code !== '000000', false);
    assert.equal(verifier.verify(code), true);
    assert.equal(verifier.verify(code), false, 'a code is accepted once only');
    now += 30_000;
    assert.equal(verifier.verify(totp(seeds.sha1, now - 60_000)), false, 'two periods old is outside the window');
    assert.equal(verifier.verify(totp(seeds.sha1, now)), true);
    assert.equal(verifier.verify(totp(seeds.sha1, now - 30_000)), false, 'an older code than one used is refused');
  });
});

describe('rclone obscure', () => {
  it('reveals a value `rclone obscure` made (recorded) and round-trips its own', () => {
    assert.equal(revealObscured('8M5BR2v8YITathmyKZ-YYbx4QXBejYVhRkk'), 'hunter2 é');
    const made = obscure('s3cret');
    assert.notEqual(made, obscure('s3cret'));
    assert.equal(revealObscured(made), 's3cret');
    assert.throws(() => revealObscured('short'), /too short/);
  });

  it('reveals what the installed rclone obscures, and rclone reveals ours', { skip: requireTool('rclone') }, () => {
    const obscured = spawnSync('rclone', ['obscure', 'p@ss word'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(revealObscured(obscured), 'p@ss word');
    // `--`: base64url output starts with '-' one time in 64, which rclone would take for a flag.
    const revealed = spawnSync('rclone', ['reveal', '--', obscure('from us')], { encoding: 'utf8' }).stdout.trim();
    assert.equal(revealed, 'from us');
  });
});
