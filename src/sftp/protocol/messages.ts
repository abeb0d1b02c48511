import { MalformedPacket, PacketReader, PacketWriter, type WireAttrs } from './codec.js';
import { PacketType, statusMessages, type StatusCodeNumber } from './constants.js';

/**
 * Requests as typed records, decoded from a table of field layouts so that
 * decoding and encoding (used by tests and the fuzzer) cannot disagree.
 */

type FieldKind = 'string' | 'bytes' | 'uint32' | 'uint64' | 'attrs' | 'rest';
type Layout = ReadonlyArray<readonly [name: string, kind: FieldKind]>;

const path = [['path', 'string']] as const;
const handle = [['handle', 'bytes']] as const;

/**
 * The fields of each request after its id. SYMLINK follows OpenSSH, which
 * sends the target before the link path (the reverse of the draft); every
 * client written against OpenSSH does the same.
 */
export const requestLayouts = {
  [PacketType.OPEN]: [['path', 'string'], ['pflags', 'uint32'], ['attrs', 'attrs']],
  [PacketType.CLOSE]: handle,
  [PacketType.READ]: [['handle', 'bytes'], ['offset', 'uint64'], ['length', 'uint32']],
  [PacketType.WRITE]: [['handle', 'bytes'], ['offset', 'uint64'], ['data', 'bytes']],
  [PacketType.LSTAT]: path,
  [PacketType.FSTAT]: handle,
  [PacketType.SETSTAT]: [['path', 'string'], ['attrs', 'attrs']],
  [PacketType.FSETSTAT]: [['handle', 'bytes'], ['attrs', 'attrs']],
  [PacketType.OPENDIR]: path,
  [PacketType.READDIR]: handle,
  [PacketType.REMOVE]: path,
  [PacketType.MKDIR]: [['path', 'string'], ['attrs', 'attrs']],
  [PacketType.RMDIR]: path,
  [PacketType.REALPATH]: path,
  [PacketType.STAT]: path,
  [PacketType.RENAME]: [['oldPath', 'string'], ['newPath', 'string']],
  [PacketType.READLINK]: path,
  [PacketType.SYMLINK]: [['targetPath', 'string'], ['linkPath', 'string']],
  [PacketType.EXTENDED]: [['name', 'string'], ['payload', 'rest']],
} as const satisfies Record<number, Layout>;

export type RequestType = keyof typeof requestLayouts;

type KindValue<K extends FieldKind> = K extends 'string' ? string : K extends 'bytes' | 'rest' ? Buffer : K extends 'attrs' ? WireAttrs : number;
type FieldsOf<L extends Layout> = { [F in L[number] as F[0]]: KindValue<F[1]> };

/** The decoded fields of request type T, with its id. */
export type RequestOf<T extends RequestType> = { type: T; id: number } & FieldsOf<(typeof requestLayouts)[T]>;
export type Request = { [T in RequestType]: RequestOf<T> }[RequestType];

export interface InitRequest {
  type: typeof PacketType.INIT;
  version: number;
}

export function isRequestType(type: number): type is RequestType {
  return Object.hasOwn(requestLayouts, type);
}

function readField(reader: PacketReader, name: string, kind: FieldKind): unknown {
  switch (kind) {
    case 'string': return reader.string(name);
    case 'bytes': return reader.bytes(name);
    case 'uint32': return reader.uint32(name);
    case 'uint64': return reader.uint64(name);
    case 'attrs': return reader.attrs();
    case 'rest': return reader.rest();
  }
}

/** Reads the id of a request body, or undefined when the body is too short to have one. */
export function peekRequestId(body: Buffer): number | undefined {
  return body.length >= 5 ? body.readUInt32BE(1) : undefined;
}

/** The length a READ asks for (its packet's last field), before decoding; 0 for any other packet. */
export function peekReadLength(body: Buffer): number {
  return body[0] === PacketType.READ && body.length >= 4 ? body.readUInt32BE(body.length - 4) : 0;
}

/**
 * Decodes one packet body (type byte onwards). Throws MalformedPacket for a
 * truncated field or an unknown type; trailing bytes are tolerated, as
 * OpenSSH tolerates them for the requests where later drafts add fields.
 */
export function decodeRequest(body: Buffer): Request | InitRequest {
  const reader = new PacketReader(body);
  const type = reader.uint8('type');
  if (type === PacketType.INIT) return { type, version: reader.uint32('version') };
  if (!isRequestType(type)) throw new MalformedPacket(`unknown packet type ${type}`);
  const request: Record<string, unknown> = { type, id: reader.uint32('request id') };
  for (const [name, kind] of requestLayouts[type] as Layout) request[name] = readField(reader, name, kind);
  return request as Request;
}

/** Encodes a request the way a client would (length prefix included). */
export function encodeRequest(request: Request | InitRequest): Buffer {
  const writer = new PacketWriter(request.type);
  if (request.type === PacketType.INIT) return writer.uint32(request.version).finish();
  writer.uint32(request.id);
  const fields = request as unknown as Record<string, unknown>;
  for (const [name, kind] of requestLayouts[request.type] as Layout) {
    const value = fields[name];
    switch (kind) {
      case 'string': writer.string(value as string); break;
      case 'bytes': writer.bytes(value as Buffer); break;
      case 'uint32': writer.uint32(value as number); break;
      case 'uint64': writer.uint64(value as number); break;
      case 'attrs': writer.attrs(value as WireAttrs); break;
      case 'rest': writer.rawBytes(value as Buffer); break;
    }
  }
  return writer.finish();
}

// Replies (server to client).

export interface NameEntry {
  filename: string;
  longname: string;
  attrs: WireAttrs;
}

export function encodeVersion(version: number, extensions: ReadonlyArray<readonly [string, string]>): Buffer {
  const writer = new PacketWriter(PacketType.VERSION, 512).uint32(version);
  for (const [name, data] of extensions) writer.string(name).string(data);
  return writer.finish();
}

export function encodeStatus(id: number, code: StatusCodeNumber, message = statusMessages[code]): Buffer {
  return new PacketWriter(PacketType.STATUS, 32 + message.length).uint32(id).uint32(code).string(message).string('').finish();
}

export function encodeHandle(id: number, handle: Buffer): Buffer {
  return new PacketWriter(PacketType.HANDLE).uint32(id).bytes(handle).finish();
}

export function encodeName(id: number, entries: readonly NameEntry[]): Buffer {
  const writer = new PacketWriter(PacketType.NAME, 64 + entries.length * 128).uint32(id).uint32(entries.length);
  for (const entry of entries) writer.string(entry.filename).string(entry.longname).attrs(entry.attrs);
  return writer.finish();
}

export function encodeAttrs(id: number, attrs: WireAttrs): Buffer {
  return new PacketWriter(PacketType.ATTRS).uint32(id).attrs(attrs).finish();
}

export function encodeExtendedReply(id: number, payload: Buffer): Buffer {
  return new PacketWriter(PacketType.EXTENDED_REPLY, 16 + payload.length).uint32(id).rawBytes(payload).finish();
}
