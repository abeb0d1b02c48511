import { createCipheriv, randomBytes } from 'node:crypto';

/**
 * rclone's fixed "obscure" key. Obscuring is not encryption — anyone with
 * rclone (or this file) can reveal a value — it only keeps passwords in
 * config files from being read at a glance. The key is public in rclone's
 * source (fs/config/obscure); the scheme: AES-256-CTR with this key and a
 * random 16-byte IV, output IV ‖ ciphertext in unpadded base64url.
 */
const RCLONE_OBSCURE_KEY = Buffer.from('9c935b48730a554d6bfd7c63c886a92bd390198eb8128afbf4de162b8b95f638', 'hex');
const IV_LENGTH = 16;

/** Reveals a value obscured by `rclone obscure`; throws when it cannot be one. */
export function revealObscured(obscured: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(obscured)) throw new Error('not an obscured value (expected base64url): is it obscured?');
  const data = Buffer.from(obscured, 'base64url');
  if (data.length < IV_LENGTH) throw new Error('obscured value too short: is it obscured?');
  const decipher = createCipheriv('aes-256-ctr', RCLONE_OBSCURE_KEY, data.subarray(0, IV_LENGTH));
  return Buffer.concat([decipher.update(data.subarray(IV_LENGTH)), decipher.final()]).toString('utf8');
}

/** Obscures a value as `rclone obscure` does (random IV, so each result differs). */
export function obscure(plain: string): string {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-ctr', RCLONE_OBSCURE_KEY, iv);
  return Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final()]).toString('base64url');
}
