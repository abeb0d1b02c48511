import { InvalidArgument, InvalidPath } from '../../fs/errors.js';
import { normalizePath } from '../../fs/path.js';

/**
 * How FS paths map to S3 keys. A directory is a key prefix ending in `/`;
 * `mkdir` stores an empty object at exactly that prefix (a "marker") so empty
 * directories exist. Every key an S3FS touches starts with its root prefix,
 * which is how one bucket serves many tenants without overlap.
 */

/** S3's limit on a key's length in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

/**
 * Validates and normalises a root prefix: `''` (the whole bucket) or
 * `a/b/` (no leading slash, one trailing slash). `.`/`..` segments are
 * refused rather than resolved: a prefix built from a user name must never
 * climb into a neighbour's keys.
 */
export function normalizePrefix(prefix: string): string {
  const segments = prefix.split('/').filter((segment) => segment !== '');
  for (const segment of segments) {
    if (segment === '.' || segment === '..' || segment.includes('\0')) {
      throw new InvalidArgument(undefined, { message: `Invalid S3 prefix "${prefix}": "." and ".." segments are not allowed` });
    }
  }
  return segments.length === 0 ? '' : segments.join('/') + '/';
}

/** The key of the file at `path` (normalised again, so `..` can never leave the root). */
export function fileKey(root: string, path: string): string {
  const normalized = normalizePath(path);
  if (normalized === '/') throw new InvalidPath(path, { message: 'The root is a directory, not a file' });
  return checkLength(root + normalized.slice(1), path);
}

/** The prefix of the directory at `path`: `root` itself for `/`, else ending in `/`. */
export function directoryKey(root: string, path: string): string {
  const normalized = normalizePath(path);
  return normalized === '/' ? root : checkLength(root + normalized.slice(1) + '/', path);
}

/** The FS path of a key under `root` (the inverse of fileKey/directoryKey). */
export function pathOfKey(root: string, key: string): string {
  return '/' + key.slice(root.length).replace(/\/$/, '');
}

/**
 * The entry name a listed key or common prefix gives inside `dirKey`, or
 * undefined for keys no path can name (the marker itself, empty, `.`, `..`
 * or `a//b` keys written by other tools).
 */
export function entryName(dirKey: string, key: string): string | undefined {
  const name = key.slice(dirKey.length).replace(/\/$/, '');
  if (name === '' || name === '.' || name === '..' || name.includes('/')) return undefined;
  return name;
}

/** URL-encodes a `bucket/key` for x-amz-copy-source, as S3 requires. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

function checkLength(key: string, path: string): string {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new InvalidPath(path, { message: `Name too long (S3 keys are at most ${MAX_KEY_BYTES} bytes)` });
  return key;
}
