import { PermissionDenied } from '../../fs/errors.js';
import { hashRange } from '../../fs/hashRange.js';
import type { FS } from '../../fs/FS.js';
import type { FileHandle, HashAlgorithm } from '../../fs/types.js';
import { parseOpenFlags } from '../../fs/types.js';
import { PacketWriter, type PacketReader } from '../protocol/codec.js';
import { StatusCode } from '../protocol/constants.js';
import { encodeExtendedReply } from '../protocol/messages.js';
import { SFTPStatusError } from '../translateErrors.js';
import { always, type Extension, type ExtensionContext } from './types.js';

/** Digest sizes of the algorithms we hash with, in the draft's names. */
const digestLengths: Record<HashAlgorithm, number> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 };

/** The draft lets servers refuse blocks this small: their hashes would outweigh the data. */
const MIN_BLOCK_SIZE = 256;

interface CheckFileRequest {
  algorithm: HashAlgorithm;
  offset: number;
  length: number;
  blockSize: number;
}

/** The fields after the file name or handle; the client's list is in its order of preference. */
function readCheckFileRequest(payload: PacketReader): CheckFileRequest {
  const offered = payload.string('hash-algorithm-list').split(',').map((name) => name.trim());
  const offset = payload.uint64('start-offset');
  const length = payload.uint64('length');
  const blockSize = payload.uint32('block-size');
  const algorithm = offered.find((name): name is HashAlgorithm => Object.hasOwn(digestLengths, name));
  if (!algorithm) throw new SFTPStatusError(StatusCode.FAILURE, `No supported hash algorithm in "${offered.join(',')}" (supported: ${Object.keys(digestLengths).join(',')})`);
  if (blockSize !== 0 && blockSize < MIN_BLOCK_SIZE) throw new SFTPStatusError(StatusCode.FAILURE, `Block size ${blockSize} is too small (minimum ${MIN_BLOCK_SIZE})`);
  return { algorithm, offset, length, blockSize };
}

function encodeCheckFileReply(id: number, algorithm: HashAlgorithm, hashes: Buffer): Buffer {
  return encodeExtendedReply(id, new PacketWriter(0, 64 + hashes.length).string('check-file').string(algorithm).rawBytes(hashes).fields());
}

/** How many digests fit one reply packet. */
function maxBlocks(context: ExtensionContext, algorithm: HashAlgorithm): number {
  return Math.floor((context.limits.maxPacketLength - 1024) / digestLengths[algorithm]);
}

function hashThrough(file: Pick<FileHandle, 'read'>, context: ExtensionContext, request: CheckFileRequest): Promise<Buffer> {
  return hashRange(file, request.algorithm, request.offset, request.length, { blockSize: request.blockSize, maxBlocks: maxBlocks(context, request.algorithm) });
}

/** A storage-side hash (no bytes read through us) where the FS has one and one digest is wanted. */
function storageHash(fs: FS, path: string, request: CheckFileRequest): Promise<Buffer> | undefined {
  return fs.hash && request.blockSize === 0 ? fs.hash(path, request.algorithm, request.offset, request.length) : undefined;
}

async function checkFileName(context: ExtensionContext, path: string, request: CheckFileRequest): Promise<Buffer> {
  const { fs } = context.si;
  const fast = storageHash(fs, path, request);
  if (fast) return fast;
  const file = await fs.open(path, parseOpenFlags('r'));
  try {
    return await hashThrough(file, context, request);
  } finally {
    await file.close();
  }
}

/**
 * check-file-handle and check-file-name (draft-ietf-secsh-filexfer-extensions-00,
 * section 3), plus "check-file": the name paramiko's SFTPFile.check() sends,
 * with a handle. The reply names the algorithm chosen from the client's list
 * and carries the digests concatenated, one per block.
 */
export const checkFileExtensions: Extension[] = [
  {
    name: 'check-file-name', version: '1', writes: false, isAvailable: always,
    async handle(context, id, payload) {
      const path = context.si.resolve(payload.string('filename'));
      const request = readCheckFileRequest(payload);
      return encodeCheckFileReply(id, request.algorithm, await checkFileName(context, path, request));
    },
  },
  ...['check-file-handle', 'check-file'].map((name): Extension => ({
    name, version: '1', writes: false, isAvailable: always,
    async handle(context, id, payload) {
      const handle = payload.bytes('file-handle');
      const request = readCheckFileRequest(payload);
      const hashes = await context.withFile(handle, 'shared', (open) => {
        if (!open.flags.read) throw new PermissionDenied(open.path, { message: 'File was not opened for reading' });
        // A handle open for writing may hold data the storage has not seen yet: hash what the handle reads.
        const fast = open.flags.write ? undefined : storageHash(context.si.fs, open.path, request);
        return fast ?? hashThrough(open.file, context, request);
      });
      return encodeCheckFileReply(id, request.algorithm, hashes);
    },
  })),
];
