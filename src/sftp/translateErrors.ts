import * as errors from '../fs/errors.js';
import type { Logger } from '../logger.js';
import { MalformedPacket } from './protocol/codec.js';
import { StatusCode, type StatusCodeNumber } from './protocol/constants.js';

/** Thrown by request handlers that want to answer a specific status (EOF, a bad handle...). */
export class SFTPStatusError extends Error {
  override name = 'SFTPStatusError';
  constructor(readonly code: StatusCodeNumber, message: string) {
    super(message);
  }
}

export interface TranslatedStatus {
  code: StatusCodeNumber;
  message: string;
}

/**
 * FSError class to SFTP v3 status. v3 has few codes, so most errors become
 * FAILURE and the message text carries the detail to the user.
 */
const statusByErrorClass: ReadonlyArray<readonly [new (...args: never[]) => errors.FSError, StatusCodeNumber]> = [
  [errors.ResourceNotFound, StatusCode.NO_SUCH_FILE],
  // A path through a file does not exist; OpenSSH answers ENOTDIR this way too (test/e2e/openssh-semantics.test.ts).
  [errors.NotADirectory, StatusCode.NO_SUCH_FILE],
  [errors.PermissionDenied, StatusCode.PERMISSION_DENIED],
  [errors.ReadOnly, StatusCode.PERMISSION_DENIED],
  [errors.Unsupported, StatusCode.OP_UNSUPPORTED],
];

/**
 * The one place an error becomes an SFTP status. FSErrors and Node errno
 * errors map by class or code; anything unexpected is a bug somewhere below,
 * so it is logged with its stack and answered FAILURE — the session goes on.
 */
export function translateErrors(error: unknown, logger?: Logger): TranslatedStatus {
  if (error instanceof SFTPStatusError) return { code: error.code, message: error.message };
  if (error instanceof MalformedPacket) return { code: StatusCode.BAD_MESSAGE, message: `Bad message: ${error.message}` };
  const isErrno = typeof (error as NodeJS.ErrnoException | undefined)?.code === 'string';
  if (error instanceof errors.FSError || isErrno) {
    const fsError = errors.fromErrno(error);
    const entry = statusByErrorClass.find(([ErrorClass]) => fsError instanceof ErrorClass);
    if (fsError instanceof errors.StorageError) logger?.warn('storage error', { error: fsError.cause ?? fsError });
    return { code: entry?.[1] ?? StatusCode.FAILURE, message: fsError.message };
  }
  logger?.error('unexpected error while handling a request', { error });
  return { code: StatusCode.FAILURE, message: `Internal error: ${describe(error)}` };
}

/** Text for anything thrown; String() itself throws for a null-prototype object, and this must not. */
function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    return 'unprintable value';
  }
}
