import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import argon2 from '@node-rs/argon2';
import bcrypt from 'bcryptjs';

/** The algorithms `hashPassword` can make and `verifyPassword` can check. */
export type PasswordAlgorithm = 'scrypt' | 'bcrypt' | 'argon2';
export const PASSWORD_ALGORITHMS: readonly PasswordAlgorithm[] = ['scrypt', 'bcrypt', 'argon2'];

/** A stored password hash that is none of the known formats. */
export class UnknownHashFormat extends Error {
  override name = 'UnknownHashFormat';
}

/**
 * scrypt parameters by default: N = 2^15, r = 8, p = 1 (32 MiB, about 100 ms),
 * the strength the scrypt paper suggests for interactive logins.
 */
const SCRYPT_DEFAULTS = { ln: 15, r: 8, p: 1 };
const SCRYPT_KEY_LENGTH = 32;
const SCRYPT_SALT_LENGTH = 16;
const BCRYPT_COST = 12;

/** The largest parameters a stored scrypt hash may ask for: a config must not make us allocate gigabytes per login. */
const SCRYPT_MAX_LN = 20;
const SCRYPT_MAX_RP = 64;

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))));
}

function base64NoPad(data: Buffer): string {
  return data.toString('base64').replace(/=+$/, '');
}

/**
 * Hashes a password for a config file.
 *
 * - `scrypt`: `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` — the PHC string format
 *   (as Python's passlib writes scrypt): `ln` is log2(N), salt (16 bytes) and
 *   hash (32 bytes) are base64 without padding. Uses node:crypto only.
 * - `bcrypt`: `$2b$12$...` (cost 12). bcrypt reads only the first 72 bytes of a password.
 * - `argon2`: `$argon2id$v=19$m=19456,t=2,p=1$...` (the OWASP minimum for argon2id).
 */
export async function hashPassword(password: string, algorithm: PasswordAlgorithm = 'scrypt'): Promise<string> {
  switch (algorithm) {
    case 'scrypt': {
      const { ln, r, p } = SCRYPT_DEFAULTS;
      const salt = randomBytes(SCRYPT_SALT_LENGTH);
      const key = await scrypt(password, salt, SCRYPT_KEY_LENGTH, scryptOptions(ln, r, p));
      return `$scrypt$ln=${ln},r=${r},p=${p}$${base64NoPad(salt)}$${base64NoPad(key)}`;
    }
    case 'bcrypt':
      return bcrypt.hash(password, BCRYPT_COST);
    case 'argon2':
      return argon2.hash(password, { algorithm: 2 /* Argon2id */, memoryCost: 19456, timeCost: 2, parallelism: 1 });
  }
}

function scryptOptions(ln: number, r: number, p: number): ScryptOptions {
  const N = 2 ** ln;
  // Node refuses by default above 32 MiB; give what these parameters need, and some.
  return { N, r, p, maxmem: 256 * N * r };
}

/** Which algorithm a stored hash is for; throws UnknownHashFormat for anything else. */
export function hashAlgorithm(hash: string): PasswordAlgorithm {
  if (hash.startsWith('$scrypt$')) {
    parseScrypt(hash);
    return 'scrypt';
  }
  if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return 'bcrypt';
  if (/^\$argon2(id|i|d)\$/.test(hash)) {
    try {
      argon2.parseOptions(hash);
    } catch (error) {
      throw new UnknownHashFormat(`not a valid argon2 hash: ${(error as Error).message}`);
    }
    return 'argon2';
  }
  throw new UnknownHashFormat('not a password hash: expected $scrypt$..., $2b$... (bcrypt) or $argon2id$... (make one with `sftp-expose hash-password`)');
}

interface ScryptHash {
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseScrypt(hash: string): ScryptHash {
  const match = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(hash);
  if (!match) throw new UnknownHashFormat('not a valid scrypt hash: expected $scrypt$ln=N,r=R,p=P$<salt base64>$<hash base64>');
  const [ln, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (ln < 1 || ln > SCRYPT_MAX_LN) throw new UnknownHashFormat(`scrypt ln=${ln} is out of range 1..${SCRYPT_MAX_LN}`);
  if (r < 1 || r > SCRYPT_MAX_RP || p < 1 || p > SCRYPT_MAX_RP) throw new UnknownHashFormat(`scrypt r and p must be in 1..${SCRYPT_MAX_RP}`);
  const key = Buffer.from(match[5]!, 'base64');
  if (key.length < 16) throw new UnknownHashFormat('scrypt hash is shorter than 16 bytes');
  return { ln, r, p, salt: Buffer.from(match[4]!, 'base64'), key };
}

/**
 * Whether `password` matches a stored hash of any supported format.
 * Comparisons are constant-time; an unknown format throws UnknownHashFormat
 * (configs are validated at load, so that is a programming error).
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  switch (hashAlgorithm(hash)) {
    case 'scrypt': {
      const { ln, r, p, salt, key } = parseScrypt(hash);
      const candidate = await scrypt(password, salt, key.length, scryptOptions(ln, r, p));
      return timingSafeEqual(candidate, key);
    }
    case 'bcrypt':
      return bcrypt.compare(password, hash);
    case 'argon2':
      return argon2.verify(hash, password);
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends about as long as checking a real password, for a user that does not
 * exist, so the time a failed login takes does not tell whether the user does.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword('not the password of anyone', 'scrypt');
  await verifyPassword(password, await dummyHash);
  return false;
}
