import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAuthorizedKeys, type PublicKey } from '../../src/ssh/auth.js';
import { makeProcessTempDir } from './tempDir.js';

/** A client key pair on disk, as `ssh -i` and ssh2's `privateKey` take it. */
export interface ClientKey {
  /** The private key file (mode 0600, no passphrase). */
  path: string;
  privateKey: Buffer;
  publicKey: PublicKey;
}

let keyDir: string | undefined;
const clientKeys = new Map<string, ClientKey>();
let hostKeyPath: string | undefined;

/**
 * An ed25519 client key made by `ssh-keygen -t ed25519 -N ''`, once per name
 * per test process (`'default'` is the key test servers accept).
 */
export function clientKey(name = 'default'): ClientKey {
  const cached = clientKeys.get(name);
  if (cached) return cached;
  keyDir ??= makeProcessTempDir('sftp-expose-keys-');
  const path = join(keyDir, `id_ed25519_${name}`);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `test-${name}`, '-f', path], { stdio: 'ignore' });
  const [publicKey] = parseAuthorizedKeys(readFileSync(`${path}.pub`, 'utf8'));
  if (!publicKey) throw new Error(`ssh-keygen wrote an unreadable public key for ${name}`);
  const key = { path, privateKey: readFileSync(path), publicKey };
  clientKeys.set(name, key);
  return key;
}

/**
 * The host key file every test server of this process uses: ed25519 only,
 * because generating the RSA key a server makes by default takes seconds.
 * Made by ssh-keygen, not ssh2's generator, which writes an unparsable key
 * about once in 256 (see src/ssh/hostKeys.ts).
 */
export function testHostKeyPath(): string {
  if (hostKeyPath) return hostKeyPath;
  keyDir ??= makeProcessTempDir('sftp-expose-keys-');
  const path = join(keyDir, 'ssh_host_ed25519_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-host', '-f', path], { stdio: 'ignore' });
  hostKeyPath = path;
  return path;
}
