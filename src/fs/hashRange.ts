import { createHash } from 'node:crypto';
import { InvalidArgument } from './errors.js';
import type { FileHandle, HashAlgorithm } from './types.js';

/** Bytes asked of the file per read: large enough to keep calls few, small enough to stay bounded. */
const READ_CHUNK = 1024 * 1024;

export interface HashRangeOptions {
  /** Hash each `blockSize` bytes separately (the last block may be shorter); 0: the whole range as one. */
  blockSize?: number;
  /** Refuse ranges that would give more blocks than this (a reply must fit a packet). */
  maxBlocks?: number;
}

/**
 * Hashes `length` bytes of an open file from `offset` (length 0: to the end
 * of the file) by reading it, for filesystems that cannot hash server-side.
 * Returns the digests of each block concatenated; with no block size, one
 * digest of the whole range. A range past the end of the file hashes what
 * is there; with blocks, an empty range gives no digests at all.
 */
export async function hashRange(
  file: Pick<FileHandle, 'read'>,
  algorithm: HashAlgorithm,
  offset: number,
  length: number,
  options: HashRangeOptions = {},
): Promise<Buffer> {
  const blockSize = options.blockSize ?? 0;
  if (![offset, length, blockSize].every((value) => Number.isSafeInteger(value) && value >= 0)) {
    throw new InvalidArgument(undefined, { message: `Invalid hash range (offset ${offset}, length ${length}, block size ${blockSize})` });
  }
  const end = length === 0 ? Infinity : offset + length;
  const maxBlocks = options.maxBlocks ?? Infinity;
  const digests: Buffer[] = [];
  let hash = createHash(algorithm);
  let inBlock = 0;
  for (let position = offset; position < end; ) {
    const room = blockSize === 0 ? READ_CHUNK : Math.min(READ_CHUNK, blockSize - inBlock);
    const chunk = await file.read(position, Math.min(room, end - position));
    if (chunk.length === 0) break;
    hash.update(chunk);
    position += chunk.length;
    inBlock += chunk.length;
    if (blockSize !== 0 && inBlock === blockSize) {
      if (digests.length >= maxBlocks) throw new InvalidArgument(undefined, { message: `Hash range has more than ${maxBlocks} blocks` });
      digests.push(hash.digest());
      hash = createHash(algorithm);
      inBlock = 0;
    }
  }
  if (blockSize === 0 || inBlock > 0) {
    if (digests.length >= maxBlocks) throw new InvalidArgument(undefined, { message: `Hash range has more than ${maxBlocks} blocks` });
    digests.push(hash.digest());
  }
  return Buffer.concat(digests);
}
