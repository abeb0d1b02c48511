import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * One line of an OpenSSH known_hosts file: the hosts it names (plain
 * patterns or one hashed name) and the key they are known by.
 */
export interface KnownHostsEntry {
  marker?: 'cert-authority' | 'revoked';
  /** Comma-separated patterns as written (`host`, `[host]:port`, `*.example.com`, `!bad`); absent when hashed. */
  patterns?: string[];
  /** `|1|salt|hash`: HMAC-SHA1 of the host name keyed with the salt. */
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  /** The public key blob, as the server sends it during the key exchange. */
  key: Buffer;
}

/** What a known_hosts file says about one host's key. */
export type HostKeyVerdict =
  | { trusted: true }
  | { trusted: false; reason: 'unknown' | 'mismatch' | 'revoked'; message: string };

/**
 * Parses known_hosts text (OpenSSH's format, see sshd(8) "SSH_KNOWN_HOSTS
 * FILE FORMAT"). Lines that do not parse are skipped, as ssh skips them.
 */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  for (const rawLine of text.split('\n')) {
    const fields = rawLine.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue;
    let marker: KnownHostsEntry['marker'];
    if (fields[0].startsWith('@')) {
      const name = fields.shift()!.slice(1);
      if (name !== 'cert-authority' && name !== 'revoked') continue;
      marker = name;
    }
    const [hosts, keyType, keyText] = fields;
    if (hosts === undefined || keyType === undefined || keyText === undefined) continue;
    const key = Buffer.from(keyText, 'base64');
    if (key.length === 0 || blobKeyType(key) !== keyType) continue;
    const entry: KnownHostsEntry = { marker, keyType, key };
    if (hosts.startsWith('|1|')) {
      const [salt, hash] = hosts.slice(3).split('|');
      if (salt === undefined || hash === undefined) continue;
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.patterns = hosts.split(',');
    }
    entries.push(entry);
  }
  return entries;
}

/** The name ssh looks a host up by: `host` on port 22, `[host]:port` elsewhere. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type inside a public key blob (its first SSH string). */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  return length + 4 <= blob.length ? blob.subarray(4, 4 + length).toString('latin1') : undefined;
}

/** Whether an entry names `name` (already in `[host]:port` form where needed). */
export function entryMatches(entry: KnownHostsEntry, name: string): boolean {
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return digest.length === entry.hashed.hash.length && timingSafeEqual(digest, entry.hashed.hash);
  }
  // As ssh's match_hostname: a matching negated pattern vetoes the line, otherwise any positive match counts.
  let matched = false;
  for (const pattern of entry.patterns ?? []) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .toLowerCase()
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`).test(name.toLowerCase());
}

/** The plain (not CA, not revoked) entries for a host: the keys it may present. */
export function knownKeysFor(entries: readonly KnownHostsEntry[], host: string, port: number): KnownHostsEntry[] {
  const name = knownHostsName(host, port);
  return entries.filter((entry) => entry.marker === undefined && entryMatches(entry, name));
}

/**
 * Checks the key a server presented against known_hosts, as ssh does with
 * StrictHostKeyChecking=yes: a revoked key or a key that differs from the
 * known ones is refused, and so is a host with no entry at all.
 */
export function verifyHostKey(entries: readonly KnownHostsEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const type = blobKeyType(key) ?? 'unknown';
  if (entries.some((entry) => entry.marker === 'revoked' && entry.key.equals(key))) {
    return { trusted: false, reason: 'revoked', message: `the ${type} host key of ${name} is marked @revoked in known_hosts` };
  }
  const known = knownKeysFor(entries, host, port);
  if (known.some((entry) => entry.key.equals(key))) return { trusted: true };
  if (known.length === 0) {
    return { trusted: false, reason: 'unknown', message: `${name} is not in known_hosts (add its key, e.g. with ssh-keyscan, or skip the check explicitly)` };
  }
  const knownTypes = [...new Set(known.map((entry) => entry.keyType))].join(', ');
  return {
    trusted: false,
    reason: 'mismatch',
    message: `HOST KEY MISMATCH for ${name}: it presented a ${type} key that differs from the known ${knownTypes} key(s) — possibly a man-in-the-middle attack; connection refused`,
  };
}

/**
 * Host key algorithms to prefer for a host, from the key types known for it,
 * so the server presents a key we can check (as ssh orders them).
 */
export function preferredHostKeyAlgorithms(known: readonly KnownHostsEntry[]): string[] {
  const algorithms: string[] = [];
  for (const { keyType } of known) {
    const names = keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
    for (const name of names) if (!algorithms.includes(name)) algorithms.push(name);
  }
  return algorithms;
}
