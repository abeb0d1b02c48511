import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { MalformedPacket, PacketFramer, type WireAttrs } from '../../src/sftp/protocol/codec.js';
import { AttrFlag, PacketType, StatusCode } from '../../src/sftp/protocol/constants.js';
import { takeDataReplyBuffer } from '../../src/sftp/dataReplies.js';
import {
  decodeRequest,
  encodeAttrs,
  encodeExtendedReply,
  encodeHandle,
  encodeName,
  encodeRequest,
  encodeStatus,
  encodeVersion,
  requestLayouts,
  type InitRequest,
  type Request,
} from '../../src/sftp/protocol/messages.js';

// Bytes built by hand, independently of PacketWriter, as the draft lays them out.
const u8 = (value: number) => Buffer.from([value]);
const u32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
};
const u64 = (value: number) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
};
const str = (value: string | Buffer) => {
  const bytes = Buffer.from(value);
  return Buffer.concat([u32(bytes.length), bytes]);
};
const packet = (...fields: Buffer[]) => {
  const body = Buffer.concat(fields);
  return Buffer.concat([u32(body.length), body]);
};

const allAttrs: WireAttrs = { size: 2 ** 40 + 3, uid: 1000, gid: 100, permissions: 0o100644, atime: 1_700_000_000, mtime: 1_700_000_001 };
const unicode = 'dïr/日本語/🙂 name';

/** One request of every type, with values that stress the encoding. */
const samples: Array<Request | InitRequest> = [
  { type: PacketType.INIT, version: 3 },
  { type: PacketType.OPEN, id: 1, path: unicode, pflags: 0x3f, attrs: allAttrs },
  { type: PacketType.CLOSE, id: 2, handle: Buffer.from([0, 0, 0, 1]) },
  { type: PacketType.READ, id: 3, handle: Buffer.from('h'), offset: 2 ** 32 + 5, length: 32768 },
  { type: PacketType.WRITE, id: 4, handle: Buffer.from('h'), offset: 2 ** 53 - 1, data: randomBytes(100_000) },
  { type: PacketType.LSTAT, id: 5, path: '' },
  { type: PacketType.FSTAT, id: 6, handle: Buffer.alloc(0) },
  { type: PacketType.SETSTAT, id: 7, path: '/a', attrs: { permissions: 0o755 } },
  { type: PacketType.FSETSTAT, id: 8, handle: Buffer.from('h'), attrs: { atime: 1, mtime: 2 } },
  { type: PacketType.OPENDIR, id: 9, path: '/' },
  { type: PacketType.READDIR, id: 10, handle: Buffer.from('dir') },
  { type: PacketType.REMOVE, id: 11, path: 'x'.repeat(5000) },
  { type: PacketType.MKDIR, id: 12, path: '/d', attrs: {} },
  { type: PacketType.RMDIR, id: 13, path: '/d' },
  { type: PacketType.REALPATH, id: 14, path: '.' },
  { type: PacketType.STAT, id: 15, path: unicode },
  { type: PacketType.RENAME, id: 16, oldPath: '/old', newPath: unicode },
  { type: PacketType.READLINK, id: 17, path: '/l' },
  { type: PacketType.SYMLINK, id: 18, targetPath: '../target', linkPath: '/l' },
  { type: PacketType.EXTENDED, id: 0xffffffff, name: 'posix-rename@openssh.com', payload: Buffer.concat([str('/a'), str('/b')]) },
];

function roundTrip(request: Request | InitRequest): Request | InitRequest {
  const encoded = encodeRequest(request);
  assert.equal(encoded.readUInt32BE(0), encoded.length - 4, 'length prefix');
  return decodeRequest(encoded.subarray(4));
}

describe('SFTP codec', () => {
  describe('requests round-trip through encodeRequest and decodeRequest', () => {
    it('covers every request type', () => {
      const covered = new Set(samples.map((sample) => sample.type));
      for (const type of Object.keys(requestLayouts)) assert.ok(covered.has(Number(type) as never), `type ${type} has a sample`);
    });

    for (const sample of samples) {
      it(`type ${sample.type}`, () => assert.deepEqual(roundTrip(sample), sample));
    }

    it('attrs with every combination of flags', () => {
      const fields: Array<[number, WireAttrs]> = [
        [AttrFlag.SIZE, { size: 2 ** 33 + 1 }],
        [AttrFlag.UIDGID, { uid: 0xfffffffe, gid: 0 }],
        [AttrFlag.PERMISSIONS, { permissions: 0o104755 }],
        [AttrFlag.ACMODTIME, { atime: 0, mtime: 0xffffffff }],
      ];
      for (let mask = 0; mask < 16; mask++) {
        const attrs: WireAttrs = Object.assign({}, ...fields.filter((_, bit) => mask & (1 << bit)).map(([, value]) => value));
        const encoded = encodeRequest({ type: PacketType.SETSTAT, id: mask, path: '/p', attrs });
        const expectedFlags = fields.filter((_, bit) => mask & (1 << bit)).reduce((sum, [flag]) => sum | flag, 0);
        assert.equal(encoded.readUInt32BE(4 + 1 + 4 + 4 + 2), expectedFlags, `flags for mask ${mask}`);
        assert.deepEqual(decodeRequest(encoded.subarray(4)), { type: PacketType.SETSTAT, id: mask, path: '/p', attrs });
      }
    });

    it('skips extended attributes, which v3 carries but nothing uses', () => {
      const body = Buffer.concat([
        u8(PacketType.MKDIR), u32(9), str('/d'),
        u32((AttrFlag.PERMISSIONS | AttrFlag.EXTENDED) >>> 0), u32(0o700),
        u32(2), str('user.a'), str('1'), str('user.b'), str(Buffer.alloc(0)),
      ]);
      assert.deepEqual(decodeRequest(body), { type: PacketType.MKDIR, id: 9, path: '/d', attrs: { permissions: 0o700 } });
      assert.throws(() => decodeRequest(body.subarray(0, body.length - 2)), MalformedPacket);
    });

    it('decodes a hand-built READ with a 64-bit offset', () => {
      const body = Buffer.concat([u8(PacketType.READ), u32(77), str('hd'), u64(2 ** 40 + 2 ** 32 + 7), u32(4096)]);
      assert.deepEqual(decodeRequest(body), { type: PacketType.READ, id: 77, handle: Buffer.from('hd'), offset: 2 ** 40 + 2 ** 32 + 7, length: 4096 });
    });
  });

  describe('replies are the bytes the draft specifies', () => {
    it('STATUS: id, code, message, empty language tag', () => {
      assert.deepEqual(encodeStatus(5, StatusCode.NO_SUCH_FILE), packet(u8(101), u32(5), u32(2), str('No such file'), str('')));
      const long = 'ünïcødé '.repeat(40);
      assert.deepEqual(encodeStatus(6, StatusCode.FAILURE, long), packet(u8(101), u32(6), u32(4), str(long), str('')));
    });

    it('HANDLE', () => {
      assert.deepEqual(encodeHandle(0xffffffff, Buffer.from([0, 0, 0, 9])), packet(u8(102), u32(0xffffffff), str(Buffer.from([0, 0, 0, 9]))));
    });

    it('DATA: the header is written in front of data read into the reply buffer', () => {
      for (const asked of [7, 200 * 1024]) {
        const buffer = takeDataReplyBuffer(asked);
        assert.equal(buffer.data.length, asked);
        const data = Buffer.from('payload');
        data.copy(buffer.data);
        assert.deepEqual(buffer.reply(3, data.length), packet(u8(103), u32(3), str(data)));
        buffer.release();
      }
    });

    it('NAME with attrs in flag order', () => {
      const attrs = { size: 2 ** 32 + 1, uid: 1, gid: 2, permissions: 0o40755, atime: 10, mtime: 20 };
      const expected = packet(
        u8(104), u32(8), u32(2),
        str('a'), str('-rw a'), u32(0x0f), u64(2 ** 32 + 1), u32(1), u32(2), u32(0o40755), u32(10), u32(20),
        str(unicode), str(unicode), u32(0),
      );
      assert.deepEqual(encodeName(8, [{ filename: 'a', longname: '-rw a', attrs }, { filename: unicode, longname: unicode, attrs: {} }]), expected);
    });

    it('NAME with many long entries (the packet grows past its first buffer)', () => {
      const entries = Array.from({ length: 300 }, (_, i) => ({ filename: `${'n'.repeat(200)}-${i}`, longname: `l-${'é'.repeat(150)}-${i}`, attrs: { size: i } }));
      const expected = packet(u8(104), u32(1), u32(300), ...entries.flatMap((e) => [str(e.filename), str(e.longname), u32(AttrFlag.SIZE), u64(e.attrs.size)]));
      assert.ok(encodeName(1, entries).equals(expected));
    });

    it('ATTRS, and the half pairs uid-without-gid and atime-without-mtime are left out', () => {
      assert.deepEqual(encodeAttrs(4, { permissions: 0o644, size: 0 }), packet(u8(105), u32(4), u32(0x05), u64(0), u32(0o644)));
      assert.deepEqual(encodeAttrs(4, { uid: 5, atime: 7 }), packet(u8(105), u32(4), u32(0)));
    });

    it('VERSION with extension pairs, EXTENDED_REPLY with a raw payload', () => {
      assert.deepEqual(encodeVersion(3, [['a@x', '1'], ['b@x', '2']]), packet(u8(2), u32(3), str('a@x'), str('1'), str('b@x'), str('2')));
      assert.deepEqual(encodeExtendedReply(9, Buffer.from([1, 2, 3])), packet(u8(201), u32(9), Buffer.from([1, 2, 3])));
    });
  });

  describe('PacketFramer', () => {
    const bodies = [Buffer.from([1, 0, 0, 0, 3]), randomBytes(70_000), Buffer.from([17]), randomBytes(300)];
    const stream = Buffer.concat(bodies.map((body) => packet(body)));

    function feed(chunks: Buffer[], max = 256 * 1024): Buffer[] {
      const framer = new PacketFramer(max);
      return chunks.flatMap((chunk) => framer.push(chunk));
    }

    it('finds many packets in one chunk', () => assert.deepEqual(feed([stream]), bodies));

    it('reassembles packets fed one byte at a time', () => {
      const bytes = [...stream].map((byte) => Buffer.from([byte]));
      assert.deepEqual(feed(bytes), bodies);
    });

    it('reassembles packets cut at random places, length prefixes included', () => {
      for (let round = 0; round < 50; round++) {
        const chunks: Buffer[] = [];
        for (let at = 0; at < stream.length; ) {
          const size = 1 + Math.floor(Math.random() * (round % 2 ? 7 : 40_000));
          chunks.push(stream.subarray(at, at + size));
          at += size;
        }
        assert.deepEqual(feed(chunks), bodies, `round ${round}`);
      }
    });

    it('keeps a partial packet until the rest arrives', () => {
      const framer = new PacketFramer(1024);
      const whole = packet(Buffer.from('abcdef'));
      assert.deepEqual(framer.push(whole.subarray(0, 2)), []);
      assert.deepEqual(framer.push(whole.subarray(2, 7)), []);
      assert.deepEqual(framer.push(whole.subarray(7)), [Buffer.from('abcdef')]);
    });

    it('accepts a packet of exactly the limit and rejects length 0 or one byte over', () => {
      assert.equal(feed([packet(Buffer.alloc(1024))], 1024)[0]!.length, 1024);
      for (const chunks of [[u32(0), Buffer.alloc(8)], [u32(1025)]]) {
        const framer = new PacketFramer(1024);
        assert.deepEqual(chunks.flatMap((chunk) => framer.push(chunk)), []);
        assert.ok(framer.error instanceof MalformedPacket);
      }
    });

    it('returns the packets before a bad length, in the same chunk too, and nothing after it', () => {
      const framer = new PacketFramer(1024);
      const bad = u32(0xffffffff);
      assert.deepEqual(framer.push(Buffer.concat([packet(Buffer.from([1])), packet(Buffer.from([2])), bad.subarray(0, 2)])), [Buffer.from([1]), Buffer.from([2])]);
      assert.equal(framer.error, undefined, 'half a length is not yet bad');
      assert.deepEqual(framer.push(Buffer.concat([bad.subarray(2), packet(Buffer.from([3]))])), []);
      assert.match(framer.error!.message, /bad packet length 4294967295/);
      assert.deepEqual(framer.push(packet(Buffer.from([4]))), []);
    });
  });

  describe('malformed requests throw MalformedPacket', () => {
    for (const sample of samples) {
      it(`every truncation of type ${sample.type}`, () => {
        const body = encodeRequest(sample).subarray(4);
        // An extension's own payload is opaque here: cutting into it still decodes.
        const decodableFrom = sample.type === PacketType.EXTENDED ? body.length - sample.payload.length : body.length;
        for (let cut = 0; cut < decodableFrom; cut++) {
          assert.throws(() => decodeRequest(body.subarray(0, cut)), MalformedPacket, `cut at ${cut} of ${body.length}`);
        }
      });
    }

    it('a string length past the end of the packet', () => {
      assert.throws(() => decodeRequest(Buffer.concat([u8(PacketType.STAT), u32(1), u32(0xffffffff), Buffer.from('abc')])), MalformedPacket);
      assert.throws(() => decodeRequest(Buffer.concat([u8(PacketType.RENAME), u32(1), str('/a'), u32(3), Buffer.from('ab')])), MalformedPacket);
    });

    it('an unknown type, and an empty body', () => {
      assert.throws(() => decodeRequest(Buffer.concat([u8(99), u32(1)])), MalformedPacket);
      assert.throws(() => decodeRequest(Buffer.alloc(0)), MalformedPacket);
    });

    it('tolerates trailing bytes, as OpenSSH does', () => {
      const body = Buffer.concat([u8(PacketType.STAT), u32(3), str('/x'), u32(0x12345678)]);
      assert.deepEqual(decodeRequest(body), { type: PacketType.STAT, id: 3, path: '/x' });
    });
  });
});
