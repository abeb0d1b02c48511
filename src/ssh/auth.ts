import { createHash, timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';

/** What an auth hook decides. PARTIALLY_SUCCESSFUL: this factor passed, another is needed. */
export const AuthResult = {
  SUCCESSFUL: 'successful',
  PARTIALLY_SUCCESSFUL: 'partially-successful',
  FAILED: 'failed',
} as const;
export type AuthResult = (typeof AuthResult)[keyof typeof AuthResult];

/** SSH authentication method names, as getAllowedAuths returns them. */
export type AuthMethod = 'none' | 'password' | 'publickey' | 'keyboard-interactive';

/** A client's public key, offered for login; its signature is already verified when a hook sees it. */
export interface PublicKey {
  /** Key type, e.g. `ssh-ed25519`, `ssh-rsa`. */
  algorithm: string;
  /** The public key blob in SSH wire format. */
  data: Buffer;
}

/**
 * Compares two secrets in constant time. Both sides are hashed first so the
 * comparison takes as long whatever their lengths.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** SHA256 fingerprint as OpenSSH prints it (`SHA256:...`). */
export function fingerprint(key: PublicKey): string {
  return 'SHA256:' + createHash('sha256').update(key.data).digest('base64').replace(/=+$/, '');
}

/**
 * Parses an authorized_keys text into key blobs. Options before the key type
 * (`from=`, `command=`...) are skipped here; lines that do not parse are
 * ignored, as sshd ignores them.
 */
export function parseAuthorizedKeys(text: string): PublicKey[] {
  const keys: PublicKey[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const key = parseKeyLine(line) ?? parseKeyLine(stripOptions(line));
    if (key) keys.push(key);
  }
  return keys;
}

function parseKeyLine(line: string): PublicKey | undefined {
  const parsed = ssh2.utils.parseKey(line);
  if (parsed instanceof Error) return undefined;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) return undefined;
  return { algorithm: key.type, data: key.getPublicSSH() };
}

/** Drops the options field of an authorized_keys line (quoted values may contain spaces). */
function stripOptions(line: string): string {
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === '"' && line[i - 1] !== '\\') inQuotes = !inQuotes;
    else if (char === ' ' && !inQuotes) return line.slice(i + 1).trim();
  }
  return line;
}

/** True when `key` is one of `allowed` (same type and blob). */
export function isKeyAllowed(allowed: readonly PublicKey[], key: PublicKey): boolean {
  return allowed.some((candidate) => candidate.algorithm === key.algorithm && candidate.data.equals(key.data));
}
