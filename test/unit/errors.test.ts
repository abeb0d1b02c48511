import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AlreadyExists,
  DirectoryNotEmpty,
  FSError,
  InsufficientStorage,
  InvalidArgument,
  InvalidPath,
  IsADirectory,
  NotADirectory,
  PermissionDenied,
  ReadOnly,
  ResourceNotFound,
  StorageError,
  Unsupported,
  fromErrno,
} from '../../src/fs/errors.js';

function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

const mapping: [string, new (...args: never[]) => FSError][] = [
  ['ENOENT', ResourceNotFound],
  ['EACCES', PermissionDenied],
  ['EPERM', PermissionDenied],
  ['EEXIST', AlreadyExists],
  ['ENOTDIR', NotADirectory],
  ['EISDIR', IsADirectory],
  ['ENOTEMPTY', DirectoryNotEmpty],
  ['EROFS', ReadOnly],
  ['ENOSYS', Unsupported],
  ['ENOTSUP', Unsupported],
  ['EOPNOTSUPP', Unsupported],
  ['EXDEV', Unsupported],
  ['EINVAL', InvalidArgument],
  ['ENAMETOOLONG', InvalidPath],
  ['ELOOP', InvalidPath],
  ['ENOSPC', InsufficientStorage],
  ['EDQUOT', InsufficientStorage],
];

describe('fromErrno', () => {
  for (const [code, ErrorClass] of mapping) {
    it(`maps ${code} to ${ErrorClass.name}, keeping the path and the original as cause`, () => {
      const original = errnoError(code);
      const mapped = fromErrno(original, '/some/path');
      assert.ok(mapped instanceof ErrorClass, `${code} gave ${mapped.name}`);
      assert.equal(mapped.name, ErrorClass.name);
      assert.equal(mapped.path, '/some/path');
      assert.equal(mapped.cause, original);
      assert.ok(mapped.message.endsWith(': /some/path'));
    });
  }

  it('passes an FSError through unchanged', () => {
    const original = new IsADirectory('/d');
    assert.equal(fromErrno(original, '/other'), original);
  });

  it('turns an unknown errno into a StorageError with the original as cause and its message', () => {
    const original = errnoError('EIO');
    const mapped = fromErrno(original, '/f');
    assert.ok(mapped instanceof StorageError);
    assert.equal(mapped.cause, original);
    assert.match(mapped.message, /EIO: simulated/);
  });

  it('turns an error without a code, or a non-error, into a StorageError', () => {
    const plain = new Error('socket hang up');
    const mapped = fromErrno(plain);
    assert.ok(mapped instanceof StorageError);
    assert.equal(mapped.cause, plain);
    assert.equal(mapped.path, undefined);
    const thrownString = fromErrno('weird');
    assert.ok(thrownString instanceof StorageError);
    assert.match(thrownString.message, /weird/);
  });
});

describe('FSError classes', () => {
  it('carry a default message, the path, and their own name', () => {
    const error = new ResourceNotFound('/missing');
    assert.ok(error instanceof FSError && error instanceof Error);
    assert.equal(error.name, 'ResourceNotFound');
    assert.equal(error.message, 'No such file or directory: /missing');
    assert.equal(error.path, '/missing');
  });

  it('accept a custom message', () => {
    const error = new InvalidPath('/x', { message: 'Too many levels of symbolic links' });
    assert.equal(error.message, 'Too many levels of symbolic links: /x');
  });

  it('are distinct classes', () => {
    assert.ok(!(new ResourceNotFound() instanceof PermissionDenied));
    assert.ok(!(new IsADirectory() instanceof NotADirectory));
  });
});
