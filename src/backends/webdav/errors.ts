import {
  AlreadyExists,
  FSError,
  InsufficientStorage,
  InvalidArgument,
  InvalidPath,
  PermissionDenied,
  ResourceNotFound,
  StorageError,
  Unsupported,
} from '../../fs/errors.js';

/**
 * An HTTP status a WebDAV server answered with. Thrown by the connection for
 * every status of 400 and above and turned into an FSError by
 * {@link fromHttpStatus}, the one place where statuses get their meaning.
 */
export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  constructor(readonly status: number, readonly statusText: string, readonly method: string) {
    super(`${method} answered ${status} ${statusText}`.trim());
  }
}

/**
 * What an HTTP status means for `path`. The generic reading; operations where
 * a status means something more precise (MKCOL's 405 "already exists", MOVE's
 * 412 "target exists") decide before calling this.
 */
export function fromHttpStatus(status: number, path: string, detail = ''): FSError {
  const cause = detail ? { cause: new Error(detail) } : {};
  switch (status) {
    case 404:
    case 410:
      return new ResourceNotFound(path, cause);
    case 401:
      return new PermissionDenied(path, { message: 'Permission denied (the WebDAV server wants other credentials)', ...cause });
    case 403:
      return new PermissionDenied(path, cause);
    case 405:
      return new Unsupported(path, { message: 'The WebDAV server does not allow this here (405 Method Not Allowed)', ...cause });
    case 409:
      // RFC 4918: a missing intermediate collection (PUT, MKCOL, MOVE/COPY destination).
      return new ResourceNotFound(path, { message: 'No such directory (409 Conflict: a parent collection is missing)', ...cause });
    case 412:
      return new AlreadyExists(path, cause);
    case 414:
      return new InvalidPath(path, { message: 'Path too long for the WebDAV server (414)', ...cause });
    case 423:
      return new PermissionDenied(path, { message: 'Locked on the WebDAV server (423 Locked)', ...cause });
    case 400:
    case 416:
      return new InvalidArgument(path, { message: `The WebDAV server refused the request (${status})`, ...cause });
    case 413:
    case 507:
      return new InsufficientStorage(path, { message: `No space left on the WebDAV server (${status})`, ...cause });
    default:
      return new StorageError(path, { message: `WebDAV server error (HTTP ${status}${detail ? `: ${detail}` : ''})`, ...cause });
  }
}

/** Any failure of a request (a status, the network, an abort) as an FSError. */
export function fromRequestError(err: unknown, path: string): FSError {
  if (err instanceof FSError) return err;
  if (err instanceof HttpStatusError) return fromHttpStatus(err.status, path, err.message);
  const message = err instanceof Error ? err.message : String(err);
  return new StorageError(path, { message: `WebDAV request failed: ${message}`, cause: err });
}
