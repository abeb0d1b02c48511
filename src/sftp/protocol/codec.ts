import { AttrFlag } from './constants.js';

/** A packet that does not parse: too short, a field past its end, a bad length. */
export class MalformedPacket extends Error {
  override name = 'MalformedPacket';
}

/** SFTP attributes as they travel on the wire (v3 ATTRS); absent fields are undefined. */
export interface WireAttrs {
  size?: number;
  uid?: number;
  gid?: number;
  /** st_mode: file type bits and permission bits together. */
  permissions?: number;
  atime?: number;
  mtime?: number;
}

const TWO_POW_32 = 0x1_0000_0000;

/** Reads SFTP's big-endian fields from one packet, refusing to read past its end. */
export class PacketReader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  private take(length: number, field: string): number {
    if (length > this.remaining) throw new MalformedPacket(`truncated ${field}`);
    const start = this.offset;
    this.offset += length;
    return start;
  }

  uint8(field = 'byte'): number {
    return this.buffer[this.take(1, field)]!;
  }

  uint32(field = 'uint32'): number {
    return this.buffer.readUInt32BE(this.take(4, field));
  }

  /** A uint64 as a JS number: exact up to 2^53, which no real offset or size reaches. */
  uint64(field = 'uint64'): number {
    const start = this.take(8, field);
    return this.buffer.readUInt32BE(start) * TWO_POW_32 + this.buffer.readUInt32BE(start + 4);
  }

  /** A length-prefixed byte string, as a view into the packet (no copy). */
  bytes(field = 'string'): Buffer {
    const length = this.uint32(`${field} length`);
    const start = this.take(length, field);
    return this.buffer.subarray(start, start + length);
  }

  string(field = 'string'): string {
    return this.bytes(field).toString('utf8');
  }

  attrs(): WireAttrs {
    const flags = this.uint32('attribute flags');
    const attrs: WireAttrs = {};
    if (flags & AttrFlag.SIZE) attrs.size = this.uint64('size');
    if (flags & AttrFlag.UIDGID) {
      attrs.uid = this.uint32('uid');
      attrs.gid = this.uint32('gid');
    }
    if (flags & AttrFlag.PERMISSIONS) attrs.permissions = this.uint32('permissions');
    if (flags & AttrFlag.ACMODTIME) {
      attrs.atime = this.uint32('atime');
      attrs.mtime = this.uint32('mtime');
    }
    if (flags & AttrFlag.EXTENDED) {
      const count = this.uint32('extended count');
      for (let i = 0; i < count; i++) {
        this.bytes('extended type');
        this.bytes('extended data');
      }
    }
    return attrs;
  }

  /** The unread rest of the packet (an extension's own payload), as a view. */
  rest(): Buffer {
    return this.buffer.subarray(this.take(this.remaining, 'rest'));
  }
}

/**
 * Builds one packet. Starts with room for the 4-byte length, which `finish`
 * fills in, so a reply is assembled in one buffer without a final copy.
 */
export class PacketWriter {
  private buffer: Buffer;
  private length = 4;

  constructor(type: number, initialSize = 64) {
    this.buffer = Buffer.allocUnsafe(Math.max(initialSize, 16));
    this.uint8(type);
  }

  /**
   * Makes room for `extra` bytes and returns where they start. It may swap
   * `this.buffer` for a larger one, so callers read `this.buffer` only after.
   */
  private reserve(extra: number): number {
    const needed = this.length + extra;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    const start = this.length;
    this.length = needed;
    return start;
  }

  uint8(value: number): this {
    const start = this.reserve(1);
    this.buffer[start] = value;
    return this;
  }

  uint32(value: number): this {
    const start = this.reserve(4);
    this.buffer.writeUInt32BE(value >>> 0, start);
    return this;
  }

  /** Saturates at 2^64-1: a value past it (a double can hold one) must not wrap to a small number. */
  uint64(value: number): this {
    const start = this.reserve(8);
    const safe = Math.max(0, Math.floor(value));
    if (safe >= TWO_POW_32 * TWO_POW_32) {
      this.buffer.writeUInt32BE(0xffffffff, start);
      this.buffer.writeUInt32BE(0xffffffff, start + 4);
      return this;
    }
    this.buffer.writeUInt32BE(Math.floor(safe / TWO_POW_32), start);
    this.buffer.writeUInt32BE(safe % TWO_POW_32, start + 4);
    return this;
  }

  bytes(value: Buffer): this {
    this.uint32(value.length);
    const start = this.reserve(value.length);
    value.copy(this.buffer, start);
    return this;
  }

  /** Bytes without a length prefix (an extension reply's own layout). */
  rawBytes(value: Buffer): this {
    const start = this.reserve(value.length);
    value.copy(this.buffer, start);
    return this;
  }

  string(value: string): this {
    const length = Buffer.byteLength(value);
    this.uint32(length);
    const start = this.reserve(length);
    this.buffer.write(value, start, 'utf8');
    return this;
  }

  attrs(attrs: WireAttrs): this {
    let flags = 0;
    if (attrs.size !== undefined) flags |= AttrFlag.SIZE;
    if (attrs.uid !== undefined && attrs.gid !== undefined) flags |= AttrFlag.UIDGID;
    if (attrs.permissions !== undefined) flags |= AttrFlag.PERMISSIONS;
    if (attrs.atime !== undefined && attrs.mtime !== undefined) flags |= AttrFlag.ACMODTIME;
    this.uint32(flags);
    if (attrs.size !== undefined) this.uint64(attrs.size);
    if (flags & AttrFlag.UIDGID) this.uint32(attrs.uid!).uint32(attrs.gid!);
    if (attrs.permissions !== undefined) this.uint32(attrs.permissions);
    if (flags & AttrFlag.ACMODTIME) this.uint32(Math.floor(attrs.atime!)).uint32(Math.floor(attrs.mtime!));
    return this;
  }

  /** Only the fields after the type byte: the payload of an extended reply. */
  fields(): Buffer {
    return this.buffer.subarray(5, this.length);
  }

  /** The finished packet, length prefix included. */
  finish(): Buffer {
    this.buffer.writeUInt32BE(this.length - 4, 0);
    return this.buffer.subarray(0, this.length);
  }
}

/**
 * Cuts a byte stream into SFTP packets (uint32 length + body). A length of 0
 * or above `maxLength` is fatal for the stream: nothing after it can be
 * trusted to be a packet boundary.
 */
export class PacketFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Set at the first bad length: nothing after it can be framed, and later pushes return nothing. */
  error?: MalformedPacket;

  constructor(private readonly maxLength: number) {}

  /**
   * Adds bytes; returns every complete packet body (without the length
   * prefix), up to a bad length if one comes (see `error`): the packets
   * before it are whole, and are still due to be answered.
   */
  push(chunk: Buffer): Buffer[] {
    if (this.error) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const packets: Buffer[] = [];
    while (this.buffered >= 4) {
      const length = this.peekLength();
      if (length === 0 || length > this.maxLength) {
        this.error = new MalformedPacket(`bad packet length ${length} (limit ${this.maxLength})`);
        this.chunks = [];
        this.buffered = 0;
        break;
      }
      if (this.buffered < 4 + length) break;
      packets.push(this.consume(4 + length).subarray(4));
    }
    return packets;
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    return this.consumeView(4, false).readUInt32BE(0);
  }

  private consume(length: number): Buffer {
    return this.consumeView(length, true);
  }

  /** The first `length` buffered bytes; copies only when they span chunks. */
  private consumeView(length: number, remove: boolean): Buffer {
    const first = this.chunks[0]!;
    let view: Buffer;
    if (first.length >= length) {
      view = first.subarray(0, length);
      if (remove) {
        if (first.length === length) this.chunks.shift();
        else this.chunks[0] = first.subarray(length);
      }
    } else {
      view = Buffer.allocUnsafe(length);
      let copied = 0;
      let index = 0;
      while (copied < length) {
        const chunk = this.chunks[index]!;
        const take = Math.min(chunk.length, length - copied);
        chunk.copy(view, copied, 0, take);
        copied += take;
        if (remove) {
          if (take === chunk.length) this.chunks.shift();
          else this.chunks[0] = chunk.subarray(take);
        } else index++;
      }
    }
    if (remove) this.buffered -= length;
    return view;
  }
}
