import { InvalidPath } from './errors.js';

/**
 * POSIX path rules shared by every backend. Paths inside an FS are absolute
 * and normalised: no `.`/`..` components, no repeated or trailing slashes.
 */

/**
 * Normalises `path` (resolved against `home` when relative; empty means home).
 * `..` never climbs above `/`. NUL bytes are refused: no filesystem stores them
 * and C-based storage would truncate the name there.
 */
export function normalizePath(path: string, home = '/'): string {
  // Clients almost always send normal paths: checking costs one scan, splitting and joining far more.
  const joined = path.startsWith('/') ? path : home === '/' ? `/${path}` : `${home}/${path}`;
  if (isNormal(joined)) return joined;
  if (path.includes('\0') || home.includes('\0')) throw new InvalidPath(path.replace(/\0/g, '\\0'), { message: 'Path contains a NUL byte' });
  const parts: string[] = [];
  for (const part of joined.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

const SLASH = 0x2f;
const DOT = 0x2e;

/** True when `path` is already what normalizePath makes of it: absolute, no empty, `.` or `..` component, no NUL. */
function isNormal(path: string): boolean {
  if (path.charCodeAt(0) !== SLASH) return false;
  if (path.length === 1) return true;
  let start = 1;
  for (let i = 1; i <= path.length; i++) {
    const c = i === path.length ? SLASH : path.charCodeAt(i);
    if (c === 0) return false;
    if (c !== SLASH) continue;
    const length = i - start;
    if (length === 0) return false;
    if (path.charCodeAt(start) === DOT && (length === 1 || (length === 2 && path.charCodeAt(start + 1) === DOT))) return false;
    start = i + 1;
  }
  return true;
}

/** Joins path segments and normalises the result. */
export function joinPath(base: string, ...segments: string[]): string {
  return normalizePath([base, ...segments].join('/'));
}

/** The parent of a normalised path; the parent of `/` is `/`. */
export function dirname(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

/** The last component of a normalised path; `/` has the empty name. */
export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** True when `path` is `root` or below it (both normalised). */
export function isInside(root: string, path: string): boolean {
  return root === '/' || path === root || path.startsWith(root + '/');
}

/** The components of a normalised path: `/a/b` gives `['a', 'b']`. */
export function splitPath(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}
