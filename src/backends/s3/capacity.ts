import type { StatVFS } from '../../fs/types.js';

/** What statvfs reports for an S3FS, which has no size of its own: set by whoever runs it. */
export interface Capacity {
  totalBytes: number;
  /** Default: all of it. */
  freeBytes?: number;
}

const BLOCK_SIZE = 4096;

/** statvfs numbers for a configured capacity (file counts are unknown: 0). */
export function capacityStats(capacity: Capacity): StatVFS {
  const blocks = Math.floor(capacity.totalBytes / BLOCK_SIZE);
  const blocksFree = Math.min(blocks, Math.floor((capacity.freeBytes ?? capacity.totalBytes) / BLOCK_SIZE));
  return {
    blockSize: BLOCK_SIZE,
    fragmentSize: BLOCK_SIZE,
    blocks,
    blocksFree,
    blocksAvailable: blocksFree,
    files: 0,
    filesFree: 0,
    filesAvailable: 0,
    fsid: 0,
    readOnly: false,
    nameMax: 255,
  };
}
