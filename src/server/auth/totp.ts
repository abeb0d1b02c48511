import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC hash of a TOTP secret; authenticator apps support sha1 (the default) nearly everywhere. */
export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** A user's TOTP settings (RFC 6238), as an `otpauth://` URI or an authenticator app has them. */
export interface TotpSettings {
  /** The shared secret, base32 (RFC 4648) as authenticator apps show it; spaces and case ignored. */
  secret: string;
  /** Code length (default 6). */
  digits?: number;
  /** Seconds per code (default 30). */
  period?: number;
  algorithm?: TotpAlgorithm;
  /** Codes of this many periods before and after now are accepted too, for clock drift (default 1). */
  window?: number;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Decodes base32 (RFC 4648; padding, spaces and case ignored). */
export function decodeBase32(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index === -1) throw new Error(`invalid base32 character "${char}"`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** HOTP (RFC 4226): the code for one counter value. */
export function hotp(key: Buffer, counter: number, digits = 6, algorithm: TotpAlgorithm = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(message).digest();
  // Dynamic truncation: the low nibble of the last byte picks 4 bytes.
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** TOTP (RFC 6238): the code at `timeMs` (Unix milliseconds). */
export function totp(key: Buffer, timeMs: number, options: { digits?: number; period?: number; algorithm?: TotpAlgorithm } = {}): string {
  return hotp(key, Math.floor(timeMs / 1000 / (options.period ?? 30)), options.digits ?? 6, options.algorithm ?? 'sha1');
}

/**
 * Checks TOTP codes for one user. A code is accepted once only: a code seen
 * by someone looking over the user's shoulder cannot be replayed within its
 * period (RFC 6238 section 5.2), so the last accepted time step is kept.
 */
export class TotpVerifier {
  private readonly key: Buffer;
  private lastUsedStep = -Infinity;

  constructor(private readonly settings: TotpSettings, private readonly now: () => number = Date.now) {
    this.key = decodeBase32(settings.secret);
    if (this.key.length < 10) throw new Error('the TOTP secret is shorter than 80 bits (RFC 4226 asks for at least 128)');
  }

  /** True when `code` is the code of now (± window periods) and that period's code was not used yet. */
  verify(code: string): boolean {
    const digits = this.settings.digits ?? 6;
    const period = this.settings.period ?? 30;
    const window = this.settings.window ?? 1;
    const given = Buffer.from(code.trim().padEnd(digits, ' '));
    const step = Math.floor(this.now() / 1000 / period);
    let matched: number | undefined;
    // Every candidate is compared, so the time taken does not tell which one matched.
    for (let candidate = step - window; candidate <= step + window; candidate++) {
      const expected = Buffer.from(hotp(this.key, candidate, digits, this.settings.algorithm ?? 'sha1'));
      if (expected.length === given.length && timingSafeEqual(expected, given) && candidate > this.lastUsedStep) matched = candidate;
    }
    if (matched === undefined) return false;
    this.lastUsedStep = matched;
    return true;
  }
}
