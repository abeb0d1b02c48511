import {
  AlreadyExists,
  DirectoryNotEmpty,
  FSError,
  InvalidArgument,
  InvalidPath,
  IsADirectory,
  NotADirectory,
  PermissionDenied,
  ResourceNotFound,
  StorageError,
  Unsupported,
} from '../../fs/errors.js';
import { joinPath, normalizePath, splitPath } from '../../fs/path.js';
import type { Stats } from '../../fs/types.js';
import { StatusCode } from '../../sftp/protocol/constants.js';

/** SFTP v3 status codes, as ssh2 puts them in `err.code` (the same numbers our own server sends). */
export const SFTPStatus = StatusCode;

/** The upstream went away (or never came): every operation on it fails with this. */
export class UpstreamConnectionLost extends StorageError {}

/** The status code of an ssh2 SFTP error, if the upstream answered one. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * The first, cheap translation: status code to FSError, no questions asked.
 * SFTP v3 has few codes (OpenSSH answers FAILURE for EEXIST, ENOTEMPTY,
 * EISDIR... and NO_SUCH_FILE for ENOTDIR), so `refineError` then asks the
 * upstream what the failure was about.
 */
export function errorFromStatus(error: unknown, path: string): FSError {
  if (error instanceof FSError) return error;
  const message = error instanceof Error ? error.message : String(error);
  switch (statusOf(error)) {
    case SFTPStatus.NO_SUCH_FILE:
      return new ResourceNotFound(path, { cause: error });
    case SFTPStatus.PERMISSION_DENIED:
      return new PermissionDenied(path, { cause: error });
    case SFTPStatus.OP_UNSUPPORTED:
      return new Unsupported(path, { cause: error });
    case SFTPStatus.BAD_MESSAGE:
      // OpenSSH answers EINVAL and ENAMETOOLONG with BAD_MESSAGE.
      return new InvalidArgument(path, { message: `Upstream refused the request (${message})`, cause: error });
    case SFTPStatus.NO_CONNECTION:
    case SFTPStatus.CONNECTION_LOST:
      return new UpstreamConnectionLost(path, { message: `Upstream connection lost (${message})`, cause: error });
    case SFTPStatus.FAILURE:
      return new StorageError(path, { message: `Upstream failure (${message})`, cause: error });
    default:
      return new StorageError(path, { message: `Upstream error (${message})`, cause: error });
  }
}

/** What an operation was trying to do, which decides what its failure probably meant. */
export type FailedOperation =
  /** Looks a path up: `follow` when a final symlink is followed (stat, open, opendir). */
  | { kind: 'lookup'; follow: boolean }
  | { kind: 'list' }
  | { kind: 'readlink' }
  | { kind: 'open'; create: boolean; exclusive: boolean }
  | { kind: 'create' }
  | { kind: 'rmdir' }
  | { kind: 'remove' }
  | { kind: 'rename'; to: string; replace: boolean }
  | { kind: 'set-size' };

/** Raw lookups on the upstream (FS paths), answering undefined for anything missing or unreadable. */
export interface UpstreamProbe {
  stat(path: string): Promise<Stats | undefined>;
  lstat(path: string): Promise<Stats | undefined>;
  /** The link's target in FS terms. */
  readlink(path: string): Promise<string | undefined>;
}

/**
 * Turns an upstream failure into the FSError a local filesystem would have
 * thrown, by looking at the paths involved (as SFTPGo and rclone do for
 * servers that answer FAILURE for everything). The probes run only on the
 * error path; the answer is the plain translation when they settle nothing.
 */
export async function refineError(error: unknown, path: string, operation: FailedOperation, probe: UpstreamProbe): Promise<FSError> {
  const plain = errorFromStatus(error, path);
  const status = statusOf(error);
  if (status === SFTPStatus.NO_SUCH_FILE) return (await diagnoseMissing(path, operation, probe)) ?? plain;
  if (status === SFTPStatus.FAILURE || status === SFTPStatus.BAD_MESSAGE) return (await diagnoseFailure(path, operation, probe)) ?? plain;
  return plain;
}

/**
 * NO_SUCH_FILE also stands for ENOTDIR and ELOOP: walking the path as the
 * kernel does tells which (a file where a directory should be, a symlink loop).
 */
async function diagnoseMissing(path: string, operation: FailedOperation, probe: UpstreamProbe): Promise<FSError | undefined> {
  if (operation.kind === 'rename') {
    // Both names there: the kernel's ENOTDIR (a directory over a file) came back as NO_SUCH_FILE.
    return (await walk(path, false, probe)) ?? (await walk(operation.to, false, probe)) ?? (await diagnoseFailure(path, operation, probe));
  }
  const follow = operation.kind === 'lookup' ? operation.follow : operation.kind === 'open' || operation.kind === 'list';
  const verdict = await walk(path, follow, probe);
  if (verdict) return verdict;
  if (operation.kind === 'list' || operation.kind === 'rmdir') {
    // rmdir does not follow a final symlink: a link to a directory is not a directory to it.
    const stats = await (operation.kind === 'rmdir' ? probe.lstat(path) : probe.stat(path));
    if (stats && stats.type !== 'directory') return new NotADirectory(path);
  }
  return undefined;
}

/** How many symlinks a walk follows before it calls the path a loop (Linux's MAXSYMLINKS). */
const MAX_SYMLINK_HOPS = 40;

/** Follows `path` component by component; says what stops it, or undefined when it leads somewhere. */
async function walk(path: string, followFinal: boolean, probe: UpstreamProbe): Promise<FSError | undefined> {
  let pending = splitPath(path);
  let resolved = '/';
  for (let hops = 0; pending.length > 0; ) {
    const [name, ...rest] = pending as [string, ...string[]];
    const candidate = joinPath(resolved, name);
    const stats = await probe.lstat(candidate);
    if (!stats) return new ResourceNotFound(path);
    if (stats.type === 'symlink' && (rest.length > 0 || followFinal)) {
      if (++hops > MAX_SYMLINK_HOPS) return new InvalidPath(path, { message: 'Too many levels of symbolic links' });
      const target = await probe.readlink(candidate);
      if (target === undefined) return undefined;
      pending = [...splitPath(normalizePath(target, resolved)), ...rest];
      resolved = '/';
      continue;
    }
    if (rest.length > 0 && stats.type !== 'directory') return new NotADirectory(path);
    resolved = candidate;
    pending = rest;
  }
  return undefined;
}

async function diagnoseFailure(path: string, operation: FailedOperation, probe: UpstreamProbe): Promise<FSError | undefined> {
  switch (operation.kind) {
    case 'create':
      return (await probe.lstat(path)) ? new AlreadyExists(path) : undefined;
    case 'open': {
      const stats = await probe.stat(path);
      if (stats?.type === 'directory') return new IsADirectory(path);
      if (operation.create && operation.exclusive && (await probe.lstat(path))) return new AlreadyExists(path);
      return walk(path, true, probe);
    }
    case 'readlink': {
      const stats = await probe.lstat(path);
      return stats && stats.type !== 'symlink' ? new InvalidArgument(path, { message: 'Not a symbolic link' }) : undefined;
    }
    case 'rmdir': {
      const stats = await probe.lstat(path);
      if (!stats) return undefined;
      return stats.type === 'directory' ? new DirectoryNotEmpty(path) : new NotADirectory(path);
    }
    case 'remove':
      return (await probe.lstat(path))?.type === 'directory' ? new IsADirectory(path) : undefined;
    case 'set-size':
      return (await probe.stat(path))?.type === 'directory' ? new IsADirectory(path) : undefined;
    case 'rename': {
      const [source, target] = await Promise.all([probe.lstat(path), probe.lstat(operation.to)]);
      if (!source) return new ResourceNotFound(path);
      if (!target) return undefined;
      if (!operation.replace) return new AlreadyExists(operation.to);
      if (source.type === 'directory' && target.type !== 'directory') return new NotADirectory(operation.to);
      if (source.type !== 'directory' && target.type === 'directory') return new IsADirectory(operation.to);
      if (target.type === 'directory') return new DirectoryNotEmpty(operation.to);
      return undefined;
    }
    case 'lookup':
    case 'list':
      // A server that answers ELOOP with FAILURE (sftp-expose itself does).
      return walk(path, operation.kind === 'list' || operation.follow, probe);
    default:
      return undefined;
  }
}
