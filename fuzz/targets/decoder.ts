import { deepStrictEqual } from 'node:assert/strict';
import { MalformedPacket } from '../../src/sftp/protocol/codec.js';
import { decodeRequest, encodeRequest } from '../../src/sftp/protocol/messages.js';
import { requestBodies } from '../seeds.js';
import type { FuzzTarget } from './types.js';

/**
 * decodeRequest on one packet body. It may only return a request or throw
 * MalformedPacket; whatever it returns must survive encode → decode unchanged
 * (the encoder is what tests and the seeds use to speak for clients).
 */
export const decoderTarget: FuzzTarget = {
  name: 'decoder',
  description: 'decodeRequest on arbitrary packet bodies, with an encode/decode round trip',
  shape: { prefix: 0, packets: 'body', maxLength: 2048 },
  seeds: requestBodies,
  run(input) {
    let decoded;
    try {
      decoded = decodeRequest(input);
    } catch (error) {
      if (error instanceof MalformedPacket) return;
      throw error;
    }
    const again = decodeRequest(encodeRequest(decoded).subarray(4));
    deepStrictEqual(again, decoded, 'a decoded request changes when encoded and decoded again');
  },
};
