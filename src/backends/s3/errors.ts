import { S3ServiceException } from '@aws-sdk/client-s3';
import {
  AlreadyExists,
  FSError,
  InvalidArgument,
  PermissionDenied,
  ResourceNotFound,
  StorageError,
  Unsupported,
} from '../../fs/errors.js';

/** S3 error codes that mean "not there" (HEAD has no body, so only its status says so). */
const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);
const DENIED_CODES = new Set(['AccessDenied', 'AllAccessDisabled', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccountProblem']);

/**
 * The one place S3 errors become FSErrors. The SDK has already retried
 * throttling and 5xx with backoff by the time an error gets here, so those
 * become a StorageError carrying S3's message (the client sees FAILURE with
 * it). A missing bucket is a StorageError too: the file is not what is missing.
 */
export function toFSError(error: unknown, path?: string): FSError {
  if (error instanceof FSError) return error;
  const code = errorCode(error);
  const status = (error as S3ServiceException | undefined)?.$metadata?.httpStatusCode;
  const message = describe(error, code);
  if (code === 'NoSuchBucket') return new StorageError(path, { message: `S3 bucket does not exist (${message})`, cause: error });
  if ((code !== undefined && NOT_FOUND_CODES.has(code)) || status === 404) return new ResourceNotFound(path, { cause: error });
  if ((code !== undefined && DENIED_CODES.has(code)) || status === 403) return new PermissionDenied(path, { message: `Permission denied by S3 (${message})`, cause: error });
  if (code === 'PreconditionFailed' || status === 412) {
    return new StorageError(path, { message: 'The object changed while it was being read or written', cause: error });
  }
  if (code === 'NotImplemented' || status === 501) return new Unsupported(path, { message: `Not supported by this S3 server (${message})`, cause: error });
  if (code === 'InvalidRange') return new InvalidArgument(path, { message, cause: error });
  return new StorageError(path, { message: `S3 error: ${message}`, cause: error });
}

/** True when `error` says the key (or the upload) does not exist. */
export function isNotFound(error: unknown): boolean {
  return toFSError(error) instanceof ResourceNotFound;
}

/** True when a conditional write found the key taken (If-None-Match: *). */
export function isAlreadyExists(error: unknown, path?: string): AlreadyExists | undefined {
  const code = errorCode(error);
  const status = (error as S3ServiceException | undefined)?.$metadata?.httpStatusCode;
  return code === 'PreconditionFailed' || status === 412 ? new AlreadyExists(path, { cause: error }) : undefined;
}

function errorCode(error: unknown): string | undefined {
  if (error instanceof S3ServiceException) return error.name;
  const named = error as { name?: unknown; Code?: unknown } | undefined;
  if (typeof named?.Code === 'string') return named.Code;
  return typeof named?.name === 'string' ? named.name : undefined;
}

function describe(error: unknown, code: string | undefined): string {
  const text = error instanceof Error ? error.message : String(error);
  // The SDK's message for a bodiless HEAD error is just the status ("UnknownError"): add what is known.
  const status = (error as S3ServiceException | undefined)?.$metadata?.httpStatusCode;
  const parts = [text || code || 'unknown error'];
  if (code && !text.includes(code)) parts.push(`code ${code}`);
  if (status !== undefined) parts.push(`HTTP ${status}`);
  const network = (error as NodeJS.ErrnoException | undefined)?.code;
  if (network && !text.includes(network)) parts.push(network);
  return parts.join(', ');
}
