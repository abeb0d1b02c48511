import { PacketReader, type WireAttrs } from '../../src/sftp/protocol/codec.js';
import { PacketType } from '../../src/sftp/protocol/constants.js';

/** A server reply, decoded as a client would decode it (for tests that read raw replies). */
export type Reply =
  | { type: 'version'; version: number; extensions: Map<string, string> }
  | { type: 'status'; id: number; code: number; message: string }
  | { type: 'handle'; id: number; handle: Buffer }
  | { type: 'data'; id: number; data: Buffer }
  | { type: 'name'; id: number; entries: Array<{ filename: string; longname: string; attrs: WireAttrs }> }
  | { type: 'attrs'; id: number; attrs: WireAttrs }
  | { type: 'extended'; id: number; payload: Buffer };

/** Decodes one reply body (type byte onwards); throws on a type a server must not send. */
export function decodeReply(body: Buffer): Reply {
  const reader = new PacketReader(body);
  const type = reader.uint8();
  if (type === PacketType.VERSION) {
    const version = reader.uint32();
    const extensions = new Map<string, string>();
    while (reader.remaining > 0) extensions.set(reader.string(), reader.string());
    return { type: 'version', version, extensions };
  }
  const id = reader.uint32();
  switch (type) {
    case PacketType.STATUS: {
      const code = reader.uint32();
      // Language tag and even the message are optional in some old servers; ours sends both.
      const message = reader.string();
      reader.string();
      return { type: 'status', id, code, message };
    }
    case PacketType.HANDLE: return { type: 'handle', id, handle: Buffer.from(reader.bytes()) };
    case PacketType.DATA: return { type: 'data', id, data: Buffer.from(reader.bytes()) };
    case PacketType.NAME: {
      const count = reader.uint32();
      const entries = [];
      for (let i = 0; i < count; i++) entries.push({ filename: reader.string(), longname: reader.string(), attrs: reader.attrs() });
      return { type: 'name', id, entries };
    }
    case PacketType.ATTRS: return { type: 'attrs', id, attrs: reader.attrs() };
    case PacketType.EXTENDED_REPLY: return { type: 'extended', id, payload: Buffer.from(reader.rest()) };
    default: throw new Error(`server sent unexpected packet type ${type}`);
  }
}

/** Narrows a reply to the expected kind, failing with the reply shown when it is not. */
export function expectReply<K extends Reply['type']>(reply: Reply, type: K): Extract<Reply, { type: K }> {
  if (reply.type !== type) throw new Error(`expected a ${type} reply, got ${JSON.stringify(reply)}`);
  return reply as Extract<Reply, { type: K }>;
}
