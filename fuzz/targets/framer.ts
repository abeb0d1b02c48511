import { deepStrictEqual, ok } from 'node:assert/strict';
import { MalformedPacket, PacketFramer } from '../../src/sftp/protocol/codec.js';
import { conversations } from '../seeds.js';
import { Random } from '../engine/random.js';
import type { FuzzTarget } from './types.js';

const MAX_LENGTH = 1024;

interface Framed {
  packets: Buffer[];
  error?: string;
}

function frame(chunks: Buffer[]): Framed {
  const framer = new PacketFramer(MAX_LENGTH);
  const packets: Buffer[] = [];
  for (const chunk of chunks) packets.push(...framer.push(chunk).map((packet) => Buffer.from(packet)));
  if (framer.error !== undefined && !(framer.error instanceof MalformedPacket)) throw framer.error;
  return { packets, error: framer.error?.message };
}

/** The packets a stream holds, read the simplest way, up to the first bad length. */
function reference(stream: Buffer): { packets: Buffer[]; badLength: boolean } {
  const packets: Buffer[] = [];
  for (let at = 0; at + 4 <= stream.length;) {
    const length = stream.readUInt32BE(at);
    if (length === 0 || length > MAX_LENGTH) return { packets, badLength: true };
    if (at + 4 + length > stream.length) break;
    packets.push(stream.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { packets, badLength: false };
}

/**
 * PacketFramer over arbitrary chunking. The first input byte seeds where the
 * stream is cut. Whether the stream comes whole or in pieces, the framer must
 * return exactly the packets the stream holds, each the length its prefix
 * announced, and fail (MalformedPacket) exactly when a bad length follows.
 * Every packet before a bad length is due, also those in the same chunk:
 * the session still answers them.
 */
export const framerTarget: FuzzTarget = {
  name: 'framer',
  description: 'PacketFramer on arbitrary byte streams cut into arbitrary chunks',
  shape: { prefix: 1, packets: 'stream', maxLength: 4096 },
  seeds: () => conversations().map((stream, i) => Buffer.concat([Buffer.from([i]), stream.subarray(0, 4000)])),
  run(input) {
    const stream = input.subarray(1);
    const random = new Random(input[0] ?? 0);
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length;) {
      const size = random.chance(0.3) ? 1 + random.below(3) : 1 + random.below(64);
      chunks.push(stream.subarray(at, at + size));
      at += size;
    }
    const expected = reference(stream);
    for (const [label, framed] of [['whole', frame([stream])], ['chunked', frame(chunks)]] as const) {
      ok((framed.error !== undefined) === expected.badLength, `${label}: framing error ${framed.error ?? 'missing'}, bad length in stream: ${expected.badLength}`);
      deepStrictEqual(framed.packets, expected.packets, `${label}: not the packets the stream holds`);
    }
  },
};
