import { parseAuthorizedKeys, type PublicKey } from '../../ssh/auth.js';
import { AddressPatternList, InvalidNetwork } from './addressMatch.js';

/** An authorized_keys line that cannot be used as written. */
export class InvalidAuthorizedKey extends Error {
  override name = 'InvalidAuthorizedKey';
}

/** One key of an authorized_keys text, with the options that restrict it. */
export interface AuthorizedKey {
  key: PublicKey;
  /** `from="..."`: the client addresses the key may log in from. */
  from?: AddressPatternList;
  /** `command="..."`: a forced command. Such keys are refused for SFTP (see {@link refusalReason}). */
  command?: string;
  /** `expiry-time="..."`: the key is refused from then on. */
  expiresAt?: Date;
  /** The text after the key (usually `user@host`), for logs. */
  comment: string;
}

/**
 * Options sshd accepts that need nothing from us: this server never opens a
 * pty, a forwarding, an agent channel or X11, and runs no rc files.
 */
const HARMLESS_OPTIONS = new Set([
  'restrict', 'no-agent-forwarding', 'no-port-forwarding', 'no-pty', 'no-user-rc', 'no-x11-forwarding',
  'agent-forwarding', 'port-forwarding', 'pty', 'user-rc', 'x11-forwarding', 'no-touch-required', 'verify-required',
  'permitopen', 'permitlisten', 'environment', 'tunnel',
]);

/** Splits `opt1,opt2="a, \"b\"",...` at the commas outside quotes; returns the options and the rest of the line. */
function splitOptions(line: string): { options: string[]; rest: string } {
  const options: string[] = [];
  let current = '';
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (char === '\\' && inQuotes && line[i + 1] === '"') {
      current += '"';
      i++;
    } else if (char === '"') inQuotes = !inQuotes;
    else if (!inQuotes && char === ',') {
      options.push(current);
      current = '';
    } else if (!inQuotes && (char === ' ' || char === '\t')) {
      options.push(current);
      return { options, rest: line.slice(i + 1).trim() };
    } else current += char;
  }
  throw new InvalidAuthorizedKey(inQuotes ? 'unterminated quote in the options' : 'options but no key');
}

/** `YYYYMMDD[HHMM[SS]]`, local time as sshd reads it (a trailing `Z`: UTC). */
function parseExpiry(text: string): Date {
  const match = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z?)$/.exec(text);
  if (!match) throw new InvalidAuthorizedKey(`expiry-time="${text}": expected YYYYMMDD[HHMM[SS]][Z]`);
  const [y, mo, d, h = '0', mi = '0', s = '0'] = match.slice(1, 7).map((part) => part ?? undefined) as string[];
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  return match[7] === 'Z' ? new Date(Date.UTC(...parts)) : new Date(...parts);
}

function parseLine(line: string): AuthorizedKey {
  const plain = parseAuthorizedKeys(line)[0];
  // A line that starts with a key type has no options (an option name is never a key type).
  if (plain && /^(ssh-|ecdsa-|sk-)/.test(line)) return { key: plain, comment: line.split(/\s+/).slice(2).join(' ') };
  const { options, rest } = splitOptions(line);
  const key = parseAuthorizedKeys(rest)[0];
  if (!key) throw new InvalidAuthorizedKey('no valid public key after the options');
  const entry: AuthorizedKey = { key, comment: rest.split(/\s+/).slice(2).join(' ') };
  for (const option of options) {
    const equals = option.indexOf('=');
    const name = (equals === -1 ? option : option.slice(0, equals)).toLowerCase();
    const value = equals === -1 ? undefined : option.slice(equals + 1);
    if (name === 'from') {
      if (value === undefined) throw new InvalidAuthorizedKey('from= needs a value');
      try {
        entry.from = new AddressPatternList(value);
      } catch (error) {
        if (error instanceof InvalidNetwork) throw new InvalidAuthorizedKey(`from="${value}": ${error.message}`);
        throw error;
      }
    } else if (name === 'command') entry.command = value ?? '';
    else if (name === 'expiry-time') entry.expiresAt = parseExpiry(value ?? '');
    else if (name === 'cert-authority' || name === 'principals') throw new InvalidAuthorizedKey(`${name}: certificate authentication is not supported`);
    else if (!HARMLESS_OPTIONS.has(name)) throw new InvalidAuthorizedKey(`unknown option "${name}"`);
  }
  return entry;
}

/**
 * Parses an authorized_keys text (OpenSSH format, options included). Unlike
 * sshd, which skips a bad line silently, a bad line is an error naming its
 * number: a config is checked when loaded, not at the first failed login.
 * @param source Named in error messages (a file path, or `"inline"`).
 */
export function parseAuthorizedKeysWithOptions(text: string, source: string): AuthorizedKey[] {
  const keys: AuthorizedKey[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      keys.push(parseLine(line));
    } catch (error) {
      throw new InvalidAuthorizedKey(`${source}, line ${index + 1}: ${(error as Error).message}`);
    }
  });
  return keys;
}

/**
 * Why this key may not log in from `clientAddress` now, or undefined when
 * it may. `command=` keys are refused: a forced command replaces whatever the
 * client asked for, so sshd would run it instead of the SFTP subsystem; this
 * server has no commands to force, and serving SFTP instead would ignore the
 * restriction the key's owner wrote.
 */
export function refusalReason(entry: AuthorizedKey, clientAddress: string, now = new Date()): string | undefined {
  if (entry.command !== undefined) return 'the key has a command= restriction, which this server cannot honour';
  if (entry.expiresAt !== undefined && now >= entry.expiresAt) return `the key expired at ${entry.expiresAt.toISOString()}`;
  if (entry.from && !entry.from.allows(clientAddress)) return `the client address ${clientAddress} is not in the key's from="${entry.from.text}"`;
  return undefined;
}
