import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as errors from '../../src/fs/errors.js';
import type { Logger } from '../../src/logger.js';
import { MalformedPacket } from '../../src/sftp/protocol/codec.js';
import { StatusCode } from '../../src/sftp/protocol/constants.js';
import { SFTPStatusError, translateErrors } from '../../src/sftp/translateErrors.js';

/** A Logger that keeps what it is told. */
function spyLogger() {
  const lines: Array<{ level: string; message: string; details?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, details?: Record<string, unknown>) => lines.push({ level, message, details });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

function errnoError(code: string, message = `${code}: something, open '/x'`): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, errno: -1, syscall: 'open', path: '/x' });
}

describe('translateErrors', () => {
  describe('FSError classes', () => {
    const cases: Array<[errors.FSError, number]> = [
      [new errors.ResourceNotFound('/a'), StatusCode.NO_SUCH_FILE],
      [new errors.PermissionDenied('/a'), StatusCode.PERMISSION_DENIED],
      [new errors.ReadOnly('/a'), StatusCode.PERMISSION_DENIED],
      [new errors.Unsupported('/a'), StatusCode.OP_UNSUPPORTED],
      [new errors.AlreadyExists('/a'), StatusCode.FAILURE],
      [new errors.IsADirectory('/a'), StatusCode.FAILURE],
      [new errors.DirectoryNotEmpty('/a'), StatusCode.FAILURE],
      [new errors.InvalidPath('/a'), StatusCode.FAILURE],
      [new errors.InvalidArgument('/a'), StatusCode.FAILURE],
      [new errors.InsufficientStorage('/a'), StatusCode.FAILURE],
    ];
    for (const [error, code] of cases) {
      it(`${error.name} → status ${code}, with the error's message`, () => {
        assert.deepEqual(translateErrors(error), { code, message: error.message });
      });
    }

    it('FAILURE carries the detail in the message', () => {
      assert.deepEqual(translateErrors(new errors.AlreadyExists('/taken')), { code: StatusCode.FAILURE, message: 'File exists: /taken' });
      assert.deepEqual(translateErrors(new errors.DirectoryNotEmpty('/d', { message: 'Directory has 3 entries' })), {
        code: StatusCode.FAILURE,
        message: 'Directory has 3 entries: /d',
      });
    });

    it('a subclass of an FSError class maps as its parent', () => {
      class ObjectMissing extends errors.ResourceNotFound {}
      assert.equal(translateErrors(new ObjectMissing('/k')).code, StatusCode.NO_SUCH_FILE);
    });

    it('a StorageError is FAILURE and logged as a warning with its cause', () => {
      const { logger, lines } = spyLogger();
      const cause = new Error('connection reset');
      const status = translateErrors(new errors.StorageError('/a', { message: 'S3 unreachable', cause }), logger);
      assert.deepEqual(status, { code: StatusCode.FAILURE, message: 'S3 unreachable: /a' });
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.level, 'warn');
      assert.equal(lines[0]!.details?.error, cause);
    });
  });

  describe('Node errno errors', () => {
    const cases: Array<[string, number]> = [
      ['ENOENT', StatusCode.NO_SUCH_FILE],
      ['EACCES', StatusCode.PERMISSION_DENIED],
      ['EPERM', StatusCode.PERMISSION_DENIED],
      ['EROFS', StatusCode.PERMISSION_DENIED],
      ['ENOTSUP', StatusCode.OP_UNSUPPORTED],
      ['EEXIST', StatusCode.FAILURE],
      ['ENOTEMPTY', StatusCode.FAILURE],
      ['ENOSPC', StatusCode.FAILURE],
    ];
    for (const [code, status] of cases) {
      it(`${code} → status ${status}`, () => assert.equal(translateErrors(errnoError(code)).code, status));
    }

    it('an unknown errno code is FAILURE with its message, not an internal error', () => {
      const { logger, lines } = spyLogger();
      const status = translateErrors(errnoError('EIO', 'EIO: i/o error, read'), logger);
      assert.deepEqual(status, { code: StatusCode.FAILURE, message: 'EIO: i/o error, read' });
      assert.ok(lines.every((line) => line.level !== 'error'));
    });
  });

  it('passes an SFTPStatusError through as it is', () => {
    assert.deepEqual(translateErrors(new SFTPStatusError(StatusCode.EOF, 'End of file')), { code: StatusCode.EOF, message: 'End of file' });
    assert.deepEqual(translateErrors(new SFTPStatusError(StatusCode.FAILURE, 'Invalid handle')), { code: StatusCode.FAILURE, message: 'Invalid handle' });
  });

  it('answers a MalformedPacket with BAD_MESSAGE', () => {
    assert.equal(translateErrors(new MalformedPacket('truncated path')).code, StatusCode.BAD_MESSAGE);
  });

  describe('unexpected errors', () => {
    it('are FAILURE, and logged as errors with their stack', () => {
      const { logger, lines } = spyLogger();
      const bug = new TypeError("Cannot read properties of undefined (reading 'size')");
      const status = translateErrors(bug, logger);
      assert.equal(status.code, StatusCode.FAILURE);
      assert.match(status.message, /Cannot read properties of undefined/);
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.level, 'error');
      const logged = lines[0]!.details?.error as Error;
      assert.equal(logged, bug);
      assert.match(logged.stack ?? '', /translateErrors\.test\.ts/, 'the stack points at where the error was made');
    });

    it('never throw, whatever is thrown', () => {
      const odd: unknown[] = [undefined, null, 42, 'a string', { code: 42 }, { message: 'no class' }, Symbol('s'), Object.create(null), new Error()];
      for (const value of odd) {
        const { logger } = spyLogger();
        const status = translateErrors(value, logger);
        assert.equal(status.code, StatusCode.FAILURE, String(typeof value));
        assert.equal(typeof status.message, 'string');
      }
    });

    it('work without a logger', () => {
      assert.equal(translateErrors(new Error('boom')).code, StatusCode.FAILURE);
    });
  });
});
