import { PacketType, StatusCode } from './protocol/constants.js';
import { encodeStatus } from './protocol/messages.js';

/** Bytes of a DATA reply before its data: uint32 packet length, byte type, uint32 id, uint32 data length. */
const DATA_HEADER_LENGTH = 13;

/**
 * READs asking for at least this much get a pooled buffer. Smaller ones are
 * what clients with 32 KiB reads send; their replies are batched (copied
 * together) anyway, so they get a buffer of their own size.
 */
const POOLED_FROM = 64 * 1024;

/** Data bytes of a pooled buffer: every READ the default limits allow (255 KiB) fits. */
const POOLED_LENGTH = 256 * 1024;

/**
 * Free buffers kept, across the process's sessions (at most 8 MiB). A
 * download with OpenSSH keeps dozens of 255 KiB READs in flight; a buffer
 * goes back to the pool when its reply has been handed to the SSH layer and
 * is taken by the next READ. Allocating a fresh one per READ instead made V8
 * collect garbage for "external memory pressure" dozens of times per GiB.
 * One size only: a pool per requested length would let a client pin memory
 * by asking for many different lengths.
 */
const KEEP = 32;
const pool: Buffer[] = [];

/** A buffer for one DATA reply, with room for the header before the data. */
export interface DataReplyBuffer {
  /** Where the data goes: `length` bytes after the header room. */
  readonly data: Buffer;
  /** The finished reply for `dataLength` bytes read (header written in front, no copy). */
  reply(id: number, dataLength: number): Buffer;
  /** Hands the buffer back once nothing reads it any more (its reply was written, or is not sent). */
  release(): void;
}

/** A buffer for a DATA reply of up to `length` data bytes. */
export function takeDataReplyBuffer(length: number): DataReplyBuffer {
  const pooled = length >= POOLED_FROM && length <= POOLED_LENGTH;
  const buffer = pooled ? (pool.pop() ?? Buffer.allocUnsafeSlow(DATA_HEADER_LENGTH + POOLED_LENGTH)) : Buffer.allocUnsafe(DATA_HEADER_LENGTH + length);
  let released = false;
  return {
    data: buffer.subarray(DATA_HEADER_LENGTH, DATA_HEADER_LENGTH + length),
    reply(id, dataLength) {
      buffer.writeUInt32BE(DATA_HEADER_LENGTH - 4 + dataLength, 0);
      buffer[4] = PacketType.DATA;
      buffer.writeUInt32BE(id, 5);
      buffer.writeUInt32BE(dataLength, 9);
      return buffer.subarray(0, DATA_HEADER_LENGTH + dataLength);
    },
    release() {
      if (released || !pooled) return;
      released = true;
      if (pool.length < KEEP) pool.push(buffer);
    },
  };
}

/** A reply packet in a pooled buffer, to hand back (release) once it is written. */
export interface PooledReply {
  packet: Buffer;
  release(): void;
}

/**
 * A READ's reply: `read` fills a pooled buffer after the room for the DATA
 * header, so header and data are never copied together; EOF when it reads
 * nothing. `bytes`: how many were read.
 */
export async function readDataReply(id: number, length: number, read: (target: Buffer) => Promise<number>): Promise<{ reply: Buffer | PooledReply; bytes: number }> {
  const buffer = takeDataReplyBuffer(length);
  let bytes: number;
  try {
    bytes = await read(buffer.data);
  } catch (error) {
    buffer.release();
    throw error;
  }
  if (bytes === 0) {
    buffer.release();
    return { reply: encodeStatus(id, StatusCode.EOF), bytes };
  }
  return { reply: { packet: buffer.reply(id, bytes), release: buffer.release }, bytes };
}
