/**
 * Errors every backend throws, so the SFTP layer maps one hierarchy (not each
 * storage's native errors) to status codes. Backends translate in one place.
 */
export class FSError extends Error {
  readonly path?: string;
  constructor(message: string, options: { path?: string; cause?: unknown } = {}) {
    super(options.path !== undefined ? `${message}: ${options.path}` : message, { cause: options.cause });
    this.name = new.target.name;
    this.path = options.path;
  }
}

function defineError(defaultMessage: string) {
  return class extends FSError {
    constructor(path?: string, options: { message?: string; cause?: unknown } = {}) {
      super(options.message ?? defaultMessage, { path, cause: options.cause });
    }
  };
}

export class ResourceNotFound extends defineError('No such file or directory') {}
export class PermissionDenied extends defineError('Permission denied') {}
export class AlreadyExists extends defineError('File exists') {}
export class NotADirectory extends defineError('Not a directory') {}
export class IsADirectory extends defineError('Is a directory') {}
export class DirectoryNotEmpty extends defineError('Directory not empty') {}
export class Unsupported extends defineError('Operation not supported') {}
export class ReadOnly extends defineError('Read-only filesystem') {}
export class InvalidPath extends defineError('Invalid path') {}
export class InsufficientStorage extends defineError('No space left on device') {}
/** An invalid argument other than a path (bad offset, length, flag combination). */
export class InvalidArgument extends defineError('Invalid argument') {}
/** The storage behind the FS failed (network, server error); `cause` holds the original. */
export class StorageError extends defineError('Storage error') {}

const errnoClasses: Record<string, new (path?: string, options?: { message?: string; cause?: unknown }) => FSError> = {
  ENOENT: ResourceNotFound,
  EACCES: PermissionDenied,
  EPERM: PermissionDenied,
  EEXIST: AlreadyExists,
  ENOTDIR: NotADirectory,
  EISDIR: IsADirectory,
  ENOTEMPTY: DirectoryNotEmpty,
  EROFS: ReadOnly,
  ENOSYS: Unsupported,
  ENOTSUP: Unsupported,
  EOPNOTSUPP: Unsupported,
  EXDEV: Unsupported,
  EINVAL: InvalidArgument,
  ENAMETOOLONG: InvalidPath,
  ELOOP: InvalidPath,
  ENOSPC: InsufficientStorage,
  EDQUOT: InsufficientStorage,
};

/**
 * Converts a Node errno error (`err.code`) into the FSError hierarchy. An
 * FSError passes through; anything unknown becomes a StorageError with cause.
 */
export function fromErrno(err: unknown, path?: string): FSError {
  if (err instanceof FSError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const ErrorClass = code !== undefined ? errnoClasses[code] : undefined;
  if (ErrorClass) return new ErrorClass(path, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new StorageError(path, { message, cause: err });
}
