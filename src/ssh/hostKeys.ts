import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';

/** The key types generated when none is given: a modern one and one every client knows. */
const GENERATED_KEY_TYPES = [
  { file: 'ssh_host_ed25519_key', generate: () => ssh2.utils.generateKeyPairSync('ed25519') },
  { file: 'ssh_host_rsa_key', generate: () => ssh2.utils.generateKeyPairSync('rsa', { bits: 3072 }) },
];

/** Where generated host keys are cached when no state directory is given (as rclone caches its own). */
export function defaultStateDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheHome, 'sftp-expose');
}

/** A key given inline (PEM or OpenSSH text) rather than as a file name. */
function isInlineKey(key: string | Buffer): boolean {
  return Buffer.isBuffer(key) || key.includes('-----BEGIN');
}

/**
 * Host keys for the SSH server. Given keys are loaded (inline text or file
 * paths, OpenSSH or PEM format); with none given, an ed25519 and an RSA key
 * are generated once and cached in `stateDir` with 0600 permissions, so the
 * server keeps its identity across restarts and clients don't see a changed key.
 */
export function loadHostKeys(keys: ReadonlyArray<string | Buffer> | undefined, stateDir = defaultStateDir()): Buffer[] {
  if (keys && keys.length > 0) {
    return keys.map((key) => {
      const text = isInlineKey(key) ? Buffer.from(key) : readFileSync(key as string);
      const parsed = ssh2.utils.parseKey(text);
      if (parsed instanceof Error) throw new Error(`cannot use host key ${isInlineKey(key) ? '(inline)' : key}: ${parsed.message}`);
      return text;
    });
  }
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  return GENERATED_KEY_TYPES.map(({ file, generate }) => {
    const path = join(stateDir, file);
    if (existsSync(path)) return readFileSync(path);
    const { private: privateKey, public: publicKey } = generateParsable(generate);
    writeFileSync(path, privateKey, { mode: 0o600 });
    chmodSync(path, 0o600);
    writeFileSync(`${path}.pub`, publicKey + '\n', { mode: 0o644 });
    return Buffer.from(privateKey);
  });
}

/**
 * ssh2's generateKeyPairSync drops the leading zero byte of an ed25519 public
 * key (about 1 key in 256), writing a key its own parser rejects as malformed;
 * generating again avoids such keys.
 */
function generateParsable<Pair extends { private: string }>(generate: () => Pair): Pair {
  for (let attempt = 0; ; attempt++) {
    const pair = generate();
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) || attempt >= 16) return pair;
  }
}
