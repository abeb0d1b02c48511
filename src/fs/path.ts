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
  if (path.includes('\0') || home.includes('\0')) throw new InvalidPath(path.replace(/\0/g, '\\0'), { message: 'Path contains a NUL byte' });
  const full = path.startsWith('/') ? path : `${home}/${path}`;
  const parts: string[] = [];
  for (const part of full.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
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
