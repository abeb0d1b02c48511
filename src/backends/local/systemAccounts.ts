import { readFile } from 'node:fs/promises';
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

async function readAccountFile(path: string): Promise<Map<number, string>> {
  try {
    return parseAccountFile(await readFile(path, 'utf8'));
  } catch {
    // No such database (Windows, a minimal container): every id is simply unnamed.
    return new Map();
  }
}

let cached: Promise<AccountNames> | undefined;

/**
 * The host's local accounts from /etc/passwd and /etc/group, read once per
 * process. Accounts that only NSS (LDAP, sssd) knows are not seen: an id
 * without a name is answered with an empty name, as OpenSSH does for ids
 * getpwuid does not know.
 */
export function systemAccountNames(): Promise<AccountNames> {
  cached ??= Promise.all([readAccountFile('/etc/passwd'), readAccountFile('/etc/group')]).then(([users, groups]) => ({ users, groups }));
  return cached;
}
