import { readFile, stat } from 'node:fs/promises';
import type { AccountNames } from '../../fs/types.js';

/** Reads `name:x:id:...` lines; the first entry for an id wins, as getpwuid(3) returns it. */
export function parseAccountFile(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [name, , id] = line.split(':');
    const number = Number(id);
    if (name && id !== undefined && id !== '' && Number.isInteger(number) && !names.has(number)) names.set(number, name);
  }
  return names;
}

/** The user and the group database. */
type AccountFiles = readonly [users: string, groups: string];
const ACCOUNT_FILES: AccountFiles = ['/etc/passwd', '/etc/group'];

/** Which files, and when each last changed, as a key: an absent file reads as `-`. */
async function versionOf(files: AccountFiles): Promise<string> {
  const times = await Promise.all(files.map((file) => stat(file).then((stats) => `${file}@${stats.mtimeMs}:${stats.size}`, () => `${file}@-`)));
  return times.join('|');
}

async function readAccountFile(path: string): Promise<Map<number, string>> {
  try {
    return parseAccountFile(await readFile(path, 'utf8'));
  } catch {
    // No such database (Windows, a minimal container): every id is simply unnamed.
    return new Map();
  }
}

let cached: { version: string; names: Promise<AccountNames> } | undefined;

/**
 * The host's local accounts from /etc/passwd and /etc/group, read again when
 * either file changes (a stat of each per call; sessions ask once each), so
 * an account added while the server runs is named in the next session.
 * Accounts that only NSS (LDAP, sssd) knows are not seen: an id without a
 * name is answered with an empty name, as OpenSSH does for ids getpwuid
 * does not know.
 */
export async function systemAccountNames(files: AccountFiles = ACCOUNT_FILES): Promise<AccountNames> {
  const version = await versionOf(files);
  if (cached?.version !== version) {
    cached = { version, names: Promise.all(files.map(readAccountFile)).then(([users, groups]) => ({ users: users!, groups: groups! })) };
  }
  return cached.names;
}
