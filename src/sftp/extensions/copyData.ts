import { PermissionDenied } from '../../fs/errors.js';
import { StatusCode } from '../protocol/constants.js';
import { encodeStatus } from '../protocol/messages.js';
import { SFTPStatusError } from '../translateErrors.js';
import { always, type Extension, type ExtensionContext } from './types.js';

/** Bytes per read and write of a server-side copy. */
export const COPY_CHUNK = 256 * 1024;
/** Reads kept in flight ahead of the writes: at most this many chunks are held per copy. */
const READ_AHEAD = 4;

interface CopyRequest {
  readHandle: Buffer;
  readOffset: number;
  /** 0: until the end of the source. */
  length: number;
  writeHandle: Buffer;
  writeOffset: number;
}

const ignore = (): void => {};

/**
 * Copies through the two handles' queues, as the client's own READs and WRITEs
 * would go: reads run ahead (up to READ_AHEAD chunks) while writes land in
 * order. A short read is not taken for the end of the file: reading resumes
 * right after it. Returns whether the source ran out before `length` bytes.
 */
async function copyThroughHandles(context: ExtensionContext, request: CopyRequest): Promise<'complete' | 'source-ended'> {
  const { si, withFile } = context;
  const end = request.length === 0 ? Infinity : request.readOffset + request.length;
  let nextRead = request.readOffset;
  let copied = 0;
  let inFlight: Array<{ offset: number; length: number; data: Promise<Buffer> }> = [];
  const readAhead = (): void => {
    while (inFlight.length < READ_AHEAD && nextRead < end) {
      const offset = nextRead;
      const length = Math.min(COPY_CHUNK, end - offset);
      const data = withFile(request.readHandle, 'shared', (open) => si.read(open, offset, length));
      data.catch(ignore); // awaited in order below; a read abandoned after an error must not go unhandled
      inFlight.push({ offset, length, data });
      nextRead += length;
    }
  };
  readAhead();
  while (inFlight.length > 0) {
    const chunk = inFlight.shift()!;
    const data = await chunk.data;
    if (data.length === 0) return request.length === 0 ? 'complete' : 'source-ended';
    const at = request.writeOffset + copied;
    await withFile(request.writeHandle, 'exclusive', (open) => si.write(open, at, data));
    copied += data.length;
    if (data.length < chunk.length) {
      inFlight = [];
      nextRead = chunk.offset + data.length;
    }
    readAhead();
  }
  return 'complete';
}

/**
 * copy-data (OpenSSH's PROTOCOL 4.10, draft-ietf-secsh-filexfer-extensions-00
 * section 7): a server-side copy between two open handles, which `sftp`'s
 * `cp` uses. Handle based, so an FS-level copy cannot serve it.
 */
export const copyDataExtensions: Extension[] = [
  {
    name: 'copy-data', version: '1', writes: true, isAvailable: always,
    async handle(context, id, payload) {
      const request: CopyRequest = {
        readHandle: payload.bytes('read-from-handle'),
        readOffset: payload.uint64('read-from-offset'),
        length: payload.uint64('read-data-length'),
        writeHandle: payload.bytes('write-to-handle'),
        writeOffset: payload.uint64('write-to-offset'),
      };
      const source = await context.withFile(request.readHandle, 'shared', async (open) => open);
      const target = await context.withFile(request.writeHandle, 'shared', async (open) => open);
      // As OpenSSH: reading and writing one file would chase its own tail.
      if (request.readHandle.equals(request.writeHandle) || source.path === target.path) {
        throw new SFTPStatusError(StatusCode.FAILURE, 'copy-data: source and destination are the same file');
      }
      if (!source.flags.read) throw new PermissionDenied(source.path, { message: 'File was not opened for reading' });
      if (!target.flags.write) throw new PermissionDenied(target.path, { message: 'File was not opened for writing' });
      const outcome = await copyThroughHandles(context, request);
      return encodeStatus(id, outcome === 'complete' ? StatusCode.OK : StatusCode.EOF);
    },
  },
];
