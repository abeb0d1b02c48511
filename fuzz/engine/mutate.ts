import { OpenFlag, PacketType } from '../../src/sftp/protocol/constants.js';
import { encodeRequest, type Request } from '../../src/sftp/protocol/messages.js';
import { nthHandle, type RequestFields } from '../seeds.js';
import type { InputShape } from '../targets/types.js';
import type { Random } from './random.js';

/**
 * Mutations of one input: blind byte edits (as libFuzzer's), and
 * structure-aware ones that know SFTP packets: edit one packet's body and fix
 * its length, drop, repeat, swap or splice whole packets, insert a freshly
 * built request. Structure keeps mutants past the framer, so they reach the
 * dispatch code instead of ending the session at the first byte.
 */

const INTERESTING_BYTES = [0, 1, 2, 0x7f, 0x80, 0xff, ...Object.values(PacketType)];
const INTERESTING_UINT32 = [0, 1, 3, 4, 5, 0xff, 0x100, 0x3ff, 0x1000, 0x4000, 0x3fc00, 0x40000, 0x40001, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const PATHS = ['/file', '/dir', '/dir/a', '/link', '/empty', '/new', '.', '..', '', '/', '~', 'file', '/dir/../file', '/nope/x', '\u00e9', 'a'.repeat(300)];

type Mutation = (input: Buffer, random: Random, other: Buffer) => Buffer;

const byteMutations: Mutation[] = [
  function flipBit(input, random) {
    if (input.length === 0) return random.bytes(1);
    const out = Buffer.from(input);
    out[random.below(out.length)]! ^= 1 << random.below(8);
    return out;
  },
  function interestingByte(input, random) {
    if (input.length === 0) return Buffer.from([random.pick(INTERESTING_BYTES)]);
    const out = Buffer.from(input);
    out[random.below(out.length)] = random.pick(INTERESTING_BYTES);
    return out;
  },
  function randomByte(input, random) {
    if (input.length === 0) return random.bytes(1);
    const out = Buffer.from(input);
    out[random.below(out.length)] = random.next() & 0xff;
    return out;
  },
  function interestingUint32(input, random) {
    if (input.length < 4) return Buffer.concat([input, random.bytes(4)]);
    const out = Buffer.from(input);
    out.writeUInt32BE(random.pick(INTERESTING_UINT32), random.below(out.length - 3));
    return out;
  },
  function insertBytes(input, random) {
    const at = random.below(input.length + 1);
    return Buffer.concat([input.subarray(0, at), random.bytes(1 + random.below(8)), input.subarray(at)]);
  },
  function eraseBytes(input, random) {
    if (input.length === 0) return input;
    const at = random.below(input.length);
    return Buffer.concat([input.subarray(0, at), input.subarray(at + 1 + random.below(Math.min(16, input.length - at)))]);
  },
  function copyRange(input, random) {
    if (input.length < 2) return input;
    const from = random.below(input.length);
    const piece = input.subarray(from, from + 1 + random.below(32));
    const at = random.below(input.length + 1);
    return Buffer.concat([input.subarray(0, at), piece, input.subarray(at)]);
  },
  function crossOver(input, random, other) {
    return Buffer.concat([input.subarray(0, random.below(input.length + 1)), other.subarray(random.below(other.length + 1))]);
  },
];

/** Splits a stream into packets (length prefix included); bytes after the last whole packet stay as a tail. */
function splitPackets(stream: Buffer): { packets: Buffer[]; tail: Buffer } {
  const packets: Buffer[] = [];
  let at = 0;
  while (at + 4 <= stream.length) {
    const end = at + 4 + stream.readUInt32BE(at);
    if (end > stream.length) break;
    packets.push(stream.subarray(at, end));
    at = end;
  }
  return { packets, tail: stream.subarray(at) };
}

function withLength(body: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

/** A request of a random type with plausible (or deliberately odd) fields. */
function freshRequest(random: Random): Buffer {
  const handle = random.chance(0.8) ? nthHandle(1 + random.below(6)) : random.bytes(random.pick([0, 3, 5, 257]));
  const path = random.pick(PATHS);
  const id = random.chance(0.5) ? random.below(64) : random.next();
  const all: RequestFields[] = [
    { type: PacketType.OPEN, path, pflags: random.pick([OpenFlag.READ, OpenFlag.WRITE | OpenFlag.CREAT, OpenFlag.WRITE | OpenFlag.APPEND, 0x3f, random.next()]), attrs: {} },
    { type: PacketType.CLOSE, handle },
    { type: PacketType.READ, handle, offset: random.pick([0, 1, 99, 100, 2 ** 32, 2 ** 53 - 1]), length: random.pick(INTERESTING_UINT32) },
    { type: PacketType.WRITE, handle, offset: random.pick([0, 5, 4096, 2 ** 40]), data: random.bytes(random.pick([0, 1, 100, 5000])) },
    { type: PacketType.FSTAT, handle },
    { type: PacketType.FSETSTAT, handle, attrs: { size: random.pick([0, 3, 2 ** 40]) } },
    { type: PacketType.OPENDIR, path },
    { type: PacketType.READDIR, handle },
    { type: PacketType.STAT, path },
    { type: PacketType.SETSTAT, path, attrs: { permissions: random.next() } },
    { type: PacketType.REMOVE, path },
    { type: PacketType.MKDIR, path, attrs: {} },
    { type: PacketType.RMDIR, path },
    { type: PacketType.REALPATH, path },
    { type: PacketType.RENAME, oldPath: path, newPath: random.pick(PATHS) },
    { type: PacketType.READLINK, path },
    { type: PacketType.SYMLINK, targetPath: random.pick(PATHS), linkPath: path },
  ];
  return encodeRequest({ ...random.pick(all), id } as Request);
}

const streamMutations: Mutation[] = [
  function editOnePacket(stream, random, other) {
    const { packets, tail } = splitPackets(stream);
    if (packets.length === 0) return stream;
    const index = random.below(packets.length);
    const body = random.pick(byteMutations)(packets[index]!.subarray(4), random, other);
    if (body.length === 0) return stream;
    packets[index] = withLength(body);
    return Buffer.concat([...packets, tail]);
  },
  function dropPacket(stream, random) {
    const { packets, tail } = splitPackets(stream);
    packets.splice(random.below(packets.length), 1);
    return Buffer.concat([...packets, tail]);
  },
  function repeatPacket(stream, random) {
    const { packets, tail } = splitPackets(stream);
    if (packets.length === 0) return stream;
    const index = random.below(packets.length);
    packets.splice(index, 0, ...Array<Buffer>(1 + random.below(8)).fill(packets[index]!));
    return Buffer.concat([...packets, tail]);
  },
  function swapPackets(stream, random) {
    const { packets, tail } = splitPackets(stream);
    if (packets.length < 2) return stream;
    const [a, b] = [random.below(packets.length), random.below(packets.length)];
    [packets[a], packets[b]] = [packets[b]!, packets[a]!];
    return Buffer.concat([...packets, tail]);
  },
  function packetFromOther(stream, random, other) {
    const { packets, tail } = splitPackets(stream);
    const donor = splitPackets(other).packets;
    if (donor.length === 0) return stream;
    packets.splice(random.below(packets.length + 1), 0, random.pick(donor));
    return Buffer.concat([...packets, tail]);
  },
  function insertFreshRequest(stream, random) {
    const { packets, tail } = splitPackets(stream);
    packets.splice(random.below(packets.length + 1), 0, freshRequest(random));
    return Buffer.concat([...packets, tail]);
  },
];

/**
 * One mutant of `input`: a stack of 1 to 4 mutations, structure-aware ones
 * half the time when the input is a packet stream. `other` is a second
 * corpus entry for cross-over. The control prefix is mutated like any byte.
 */
export function mutate(input: Buffer, other: Buffer, shape: InputShape, random: Random): Buffer {
  let prefix = input.subarray(0, shape.prefix);
  let rest = input.subarray(shape.prefix);
  const otherRest = other.subarray(shape.prefix);
  const stack = 1 + random.below(4);
  for (let i = 0; i < stack; i++) {
    if (shape.prefix > 0 && random.chance(0.1)) {
      prefix = Buffer.from(prefix);
      prefix[random.below(shape.prefix)] = random.next() & 0xff;
    } else if (shape.packets === 'stream' && random.chance(0.5)) {
      rest = random.pick(streamMutations)(rest, random, otherRest);
    } else {
      rest = random.pick(byteMutations)(rest, random, otherRest);
    }
  }
  return Buffer.concat([prefix, rest]).subarray(0, shape.maxLength);
}
