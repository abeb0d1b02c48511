import { PacketReader } from '../../src/sftp/protocol/codec.js';
import { PacketType, StatusCode } from '../../src/sftp/protocol/constants.js';

/** A reply body checked field by field; `id` is absent for VERSION. */
export interface CheckedReply {
  type: number;
  id?: number;
}

/**
 * Parses a reply body as a strict client would: a known reply type, every
 * field inside the packet, nothing left over (except an EXTENDED_REPLY's own
 * payload), handles within the draft's 256 bytes. Throws on anything else.
 */
export function checkReply(body: Buffer, maxDataLength: number): CheckedReply {
  const reader = new PacketReader(body);
  const type = reader.uint8();
  if (type === PacketType.VERSION) {
    reader.uint32();
    while (reader.remaining > 0) reader.string() && reader.string();
    return { type };
  }
  const id = reader.uint32();
  switch (type) {
    case PacketType.STATUS: {
      const code = reader.uint32();
      if (code > StatusCode.OP_UNSUPPORTED) throw new Error(`unknown status code ${code}`);
      reader.string();
      reader.string();
      break;
    }
    case PacketType.HANDLE: {
      const handle = reader.bytes();
      if (handle.length === 0 || handle.length > 256) throw new Error(`handle of ${handle.length} bytes`);
      break;
    }
    case PacketType.DATA: {
      const data = reader.bytes();
      if (data.length === 0 || data.length > maxDataLength) throw new Error(`DATA of ${data.length} bytes (limit ${maxDataLength})`);
      break;
    }
    case PacketType.NAME: {
      const count = reader.uint32();
      for (let i = 0; i < count; i++) {
        reader.string();
        reader.string();
        reader.attrs();
      }
      break;
    }
    case PacketType.ATTRS:
      reader.attrs();
      break;
    case PacketType.EXTENDED_REPLY:
      reader.rest();
      break;
    default:
      throw new Error(`reply of unknown type ${type}`);
  }
  if (reader.remaining !== 0) throw new Error(`${reader.remaining} bytes left over in a reply of type ${type}`);
  return { type, id };
}
