import { PacketWriter } from '../src/sftp/protocol/codec.js';
import { OpenFlag, PacketType } from '../src/sftp/protocol/constants.js';
import { encodeRequest, type Request } from '../src/sftp/protocol/messages.js';

/**
 * The seed corpus, generated rather than stored: valid requests of every type
 * and short conversations a client would have, built with the codec's own
 * encoder. Paths name the fixture tree the session target creates
 * (see targets/session.ts); handles are the ones a fresh session hands out
 * (uint32 1, 2, 3...).
 */

/** The handle a fresh session gives its n-th OPEN/OPENDIR. */
export function nthHandle(n: number): Buffer {
  const handle = Buffer.alloc(4);
  handle.writeUInt32BE(n);
  return handle;
}

/** A request without its id, for any request type (Omit over the union, member by member). */
export type RequestFields = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

function payload(build: (writer: PacketWriter) => PacketWriter): Buffer {
  return Buffer.from(build(new PacketWriter(0)).fields());
}

const h1 = nthHandle(1);
const RW_CREATE = OpenFlag.READ | OpenFlag.WRITE | OpenFlag.CREAT;

/** EXTENDED requests with well-formed payloads, one per built-in extension. */
function extendedRequests(): Array<{ name: string; payload: Buffer }> {
  return [
    { name: 'posix-rename@openssh.com', payload: payload((w) => w.string('/file').string('/moved')) },
    { name: 'statvfs@openssh.com', payload: payload((w) => w.string('/')) },
    { name: 'fstatvfs@openssh.com', payload: payload((w) => w.bytes(h1)) },
    { name: 'hardlink@openssh.com', payload: payload((w) => w.string('/file').string('/hard')) },
    { name: 'fsync@openssh.com', payload: payload((w) => w.bytes(h1)) },
    { name: 'lsetstat@openssh.com', payload: payload((w) => w.string('/link').attrs({ atime: 1, mtime: 2 })) },
    { name: 'limits@openssh.com', payload: Buffer.alloc(0) },
    { name: 'expand-path@openssh.com', payload: payload((w) => w.string('~/dir/../file')) },
    { name: 'home-directory', payload: payload((w) => w.string('tester')) },
    { name: 'users-groups-by-id@openssh.com', payload: payload((w) => w.bytes(Buffer.from([0, 0, 0, 0])).bytes(Buffer.from([0, 0, 0, 0]))) },
    { name: 'copy-data', payload: payload((w) => w.bytes(h1).uint64(0).uint64(0).bytes(nthHandle(2)).uint64(0)) },
    { name: 'check-file-name', payload: payload((w) => w.string('/file').string('md5,sha256').uint64(0).uint64(0).uint32(0)) },
    { name: 'check-file-handle', payload: payload((w) => w.bytes(h1).string('sha1').uint64(0).uint64(64).uint32(256)) },
    { name: 'no-such-extension@example.com', payload: Buffer.from('?') },
  ];
}

/** One request of every type, ids 1, 2, 3... */
export function everyRequest(): Request[] {
  const requests: RequestFields[] = [
    { type: PacketType.OPEN, path: '/file', pflags: RW_CREATE, attrs: { permissions: 0o644 } },
    { type: PacketType.READ, handle: h1, offset: 0, length: 64 },
    { type: PacketType.WRITE, handle: h1, offset: 10, data: Buffer.from('fuzz') },
    { type: PacketType.FSTAT, handle: h1 },
    { type: PacketType.FSETSTAT, handle: h1, attrs: { size: 5, uid: 0, gid: 0, atime: 1, mtime: 2 } },
    { type: PacketType.CLOSE, handle: h1 },
    { type: PacketType.OPENDIR, path: '/dir' },
    { type: PacketType.READDIR, handle: h1 },
    { type: PacketType.LSTAT, path: '/link' },
    { type: PacketType.STAT, path: '/link' },
    { type: PacketType.SETSTAT, path: '/file', attrs: { permissions: 0o600 } },
    { type: PacketType.REMOVE, path: '/dir/a' },
    { type: PacketType.MKDIR, path: '/new', attrs: {} },
    { type: PacketType.RMDIR, path: '/empty' },
    { type: PacketType.REALPATH, path: '../dir/./b' },
    { type: PacketType.RENAME, oldPath: '/dir/b', newPath: '/b' },
    { type: PacketType.READLINK, path: '/link' },
    { type: PacketType.SYMLINK, targetPath: '/file', linkPath: '/link2' },
    ...extendedRequests().map(({ name, payload }) => ({ type: PacketType.EXTENDED, name, payload })),
  ];
  return requests.map((request, i) => ({ ...request, id: i + 1 }) as Request);
}

/** Conversations (without INIT) a client might have, as packet streams. */
export function conversations(): Buffer[] {
  const stream = (requests: RequestFields[]) =>
    Buffer.concat(requests.map((request, i) => encodeRequest({ ...request, id: i + 1 } as Request)));
  const h2 = nthHandle(2);
  return [
    stream(everyRequest()),
    stream([
      { type: PacketType.OPEN, path: '/upload', pflags: RW_CREATE | OpenFlag.TRUNC, attrs: {} },
      { type: PacketType.WRITE, handle: h1, offset: 0, data: Buffer.alloc(300, 7) },
      { type: PacketType.WRITE, handle: h1, offset: 300, data: Buffer.alloc(300, 8) },
      { type: PacketType.READ, handle: h1, offset: 0, length: 0xffffffff },
      { type: PacketType.OPEN, path: '/file', pflags: OpenFlag.READ, attrs: {} },
      { type: PacketType.EXTENDED, name: 'copy-data', payload: payload((w) => w.bytes(h2).uint64(0).uint64(0).bytes(h1).uint64(600)) },
      { type: PacketType.CLOSE, handle: h2 },
    ] ),
    stream([
      { type: PacketType.OPENDIR, path: '/dir' },
      { type: PacketType.READDIR, handle: h1 },
      { type: PacketType.READDIR, handle: h1 },
      { type: PacketType.READDIR, handle: h1 },
      { type: PacketType.CLOSE, handle: h1 },
    ] ),
    // More OPENs than the fuzzed session allows handles.
    stream(Array.from({ length: 6 }, () => ({ type: PacketType.OPEN, path: '/file', pflags: OpenFlag.READ, attrs: {} })) ),
  ];
}

/** Every request body (type byte onwards, no length): seeds of the decoder target. */
export function requestBodies(): Buffer[] {
  return [encodeRequest({ type: PacketType.INIT, version: 3 }), ...everyRequest().map(encodeRequest)].map((packet) => packet.subarray(4));
}
