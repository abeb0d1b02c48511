import type { AccountNames, Stats } from '../fs/types.js';

/**
 * The `longname` of a READDIR entry, laid out as OpenSSH's sftp-server lays it
 * out (`ls -l` style). OpenSSH's `ls -l` and FileZilla print or parse it as is.
 */

const typeChar: Record<Stats['type'], string> = { file: '-', directory: 'd', symlink: 'l', other: '?' };
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** OpenSSH's cut-off: dates within half of 365 days before now show the time, others the year. */
const HALF_YEAR_SECONDS = (365 * 24 * 3600) / 2;

const typeIndex: Record<Stats['type'], number> = { file: 0, directory: 1, symlink: 2, other: 3 };
/** Mode strings by type and permission bits: a directory has few distinct modes, so each is built once. */
const modeStrings: string[] = [];

function permissionString(stats: Stats): string {
  const bits = stats.permissions & 0o7777;
  const key = typeIndex[stats.type] * 0o10000 + bits;
  return (modeStrings[key] ??= buildPermissionString(stats.type, bits));
}

function buildPermissionString(type: Stats['type'], bits: number): string {
  const triplet = (shift: number, special: number, specialChar: string) => {
    const r = bits & (4 << shift) ? 'r' : '-';
    const w = bits & (2 << shift) ? 'w' : '-';
    const executable = (bits & (1 << shift)) !== 0;
    const x = bits & special ? (executable ? specialChar : specialChar.toUpperCase()) : executable ? 'x' : '-';
    return r + w + x;
  };
  return typeChar[type] + triplet(6, 0o4000, 's') + triplet(3, 0o2000, 's') + triplet(0, 0o1000, 't');
}

/**
 * Date columns by whole second and recency. Files listed together often share
 * their mtime's second (a copy, an unpacked archive), and a local-time Date
 * per entry was the largest cost of a listing's longnames. Bounded: cleared
 * when full. (A change of TZ while running is not seen by entries already made.)
 */
const dateStrings = new Map<number, string>();
const DATE_CACHE_SIZE = 4096;

function dateString(mtime: number, now: number): string {
  // A future date shows the year too (clock skew, bad mtimes), as OpenSSH and ls print it.
  const recent = mtime > now - HALF_YEAR_SECONDS && mtime <= now;
  const key = Math.floor(mtime) * 2 + (recent ? 1 : 0);
  let text = dateStrings.get(key);
  if (text === undefined) {
    if (dateStrings.size >= DATE_CACHE_SIZE) dateStrings.clear();
    text = buildDateString(mtime, recent);
    dateStrings.set(key, text);
  }
  return text;
}

function buildDateString(mtime: number, recent: boolean): string {
  const date = new Date(mtime * 1000);
  const day = String(date.getDate()).padStart(2, ' ');
  const tail = recent
    ? `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`
    : ` ${date.getFullYear()}`;
  return `${months[date.getMonth()]} ${day} ${tail}`;
}

/**
 * Owner and group are the names the stats carry, else the names `accounts`
 * knows for their ids, else the ids (as OpenSSH prints ids getpwuid does not know).
 */
export function formatLongname(name: string, stats: Stats, now = Date.now() / 1000, accounts?: AccountNames): string {
  const owner = (stats.owner ?? accounts?.users.get(stats.uid) ?? String(stats.uid)).padEnd(8, ' ');
  const group = (stats.group ?? accounts?.groups.get(stats.gid) ?? String(stats.gid)).padEnd(8, ' ');
  const links = String(stats.nlink ?? 1).padStart(3, ' ');
  const size = String(stats.size).padStart(8, ' ');
  // Two spaces: strmode(3), which OpenSSH formats with, ends the mode with a space of its own.
  return `${permissionString(stats)}  ${links} ${owner} ${group} ${size} ${dateString(stats.mtime, now)} ${name}`;
}
