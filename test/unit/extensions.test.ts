import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { LocalFS } from '../../src/backends/local.js';
import { MemoryFS } from '../../src/backends/memory.js';
import type { FS } from '../../src/fs/FS.js';
import { hashRange } from '../../src/fs/hashRange.js';
import type { SetAttributes } from '../../src/fs/types.js';
import { ReadOnlyFS } from '../../src/fs/wrappers/readonly.js';
import type { HomeDirectoryLookup } from '../../src/sftp/extensions.js';
import { PacketReader, PacketWriter } from '../../src/sftp/protocol/codec.js';
import { OpenFlag, PacketType, StatusCode } from '../../src/sftp/protocol/constants.js';
import { SFTPServerInterface } from '../../src/sftp/SFTPServerInterface.js';
import { SessionPipe } from '../helpers/sessionPipe.js';
import { expectReply, type Reply } from '../helpers/sftpReplies.js';

/** An extension's fields, written as a client would. */
const fields = (build: (writer: PacketWriter) => PacketWriter): Buffer => Buffer.from(build(new PacketWriter(0)).fields());

async function started(fs: FS | SFTPServerInterface): Promise<{ pipe: SessionPipe; extensions: Map<string, string> }> {
  const pipe = new SessionPipe(fs);
  const version = await pipe.init();
  return { pipe, extensions: version.extensions };
}

function extended(pipe: SessionPipe, name: string, payload: Buffer = Buffer.alloc(0)): Promise<Reply> {
  return pipe.request({ type: PacketType.EXTENDED, name, payload });
}

function status(reply: Reply): number {
  return expectReply(reply, 'status').code;
}

function singleName(reply: Reply): string {
  const { entries } = expectReply(reply, 'name');
  assert.equal(entries.length, 1);
  return entries[0]!.filename;
}

async function openHandle(pipe: SessionPipe, path: string, pflags: number): Promise<Buffer> {
  return expectReply(await pipe.request({ type: PacketType.OPEN, path, pflags, attrs: {} }), 'handle').handle;
}

/** A MemoryFS without some optional capabilities, as a plainer backend would be. */
function withoutCapabilities(fs: MemoryFS, ...names: Array<'statvfs' | 'link' | 'hash' | 'copy'>): MemoryFS {
  for (const name of names) Object.defineProperty(fs, name, { value: undefined });
  return fs;
}

const ALL = [
  'posix-rename@openssh.com', 'statvfs@openssh.com', 'fstatvfs@openssh.com', 'hardlink@openssh.com', 'fsync@openssh.com',
  'lsetstat@openssh.com', 'limits@openssh.com', 'expand-path@openssh.com', 'copy-data', 'home-directory',
  'users-groups-by-id@openssh.com', 'check-file-name', 'check-file-handle', 'check-file',
];
const WRITING = ['posix-rename@openssh.com', 'hardlink@openssh.com', 'lsetstat@openssh.com', 'copy-data'];

describe('extension advertisement', () => {
  it('offers every extension on a MemoryFS, with OpenSSH version strings', async () => {
    const { pipe, extensions } = await started(new MemoryFS());
    assert.deepEqual([...extensions.keys()].sort(), [...ALL].sort());
    assert.equal(extensions.get('statvfs@openssh.com'), '2');
    assert.equal(extensions.get('copy-data'), '1');
    pipe.end();
  });

  it('offers nothing that writes on a read-only FS', async () => {
    const { pipe, extensions } = await started(new ReadOnlyFS(new MemoryFS()));
    assert.deepEqual([...extensions.keys()].sort(), ALL.filter((name) => !WRITING.includes(name)).sort());
    pipe.end();
  });

  it('leaves out statvfs and hardlink when the FS cannot do them, and they then answer OP_UNSUPPORTED', async () => {
    const { pipe, extensions } = await started(withoutCapabilities(new MemoryFS(), 'statvfs', 'link'));
    for (const name of ['statvfs@openssh.com', 'fstatvfs@openssh.com', 'hardlink@openssh.com']) assert.equal(extensions.has(name), false, name);
    assert.equal(extensions.has('check-file-name'), true, 'check-file streams when the FS cannot hash');
    assert.equal(status(await extended(pipe, 'statvfs@openssh.com', fields((w) => w.string('/')))), StatusCode.OP_UNSUPPORTED);
    pipe.end();
  });

  it('limits@openssh.com: a write length whose WRITE packet fills one 32 KiB SSH packet, while larger WRITEs are still taken', async () => {
    const fs = new MemoryFS();
    const { pipe } = await started(fs);
    const reader = new PacketReader(expectReply(await extended(pipe, 'limits@openssh.com'), 'extended').payload);
    const [packet, read, write, handles] = [reader.uint64(), reader.uint64(), reader.uint64(), reader.uint64()];
    assert.deepEqual([packet, read, handles], [256 * 1024, 255 * 1024, 1024]);
    const handle = await openHandle(pipe, '/f', OpenFlag.WRITE | OpenFlag.CREAT);
    // uint32 length + type + uint32 id + string handle + uint64 offset + uint32 data length, then the data.
    assert.equal(4 + 1 + 4 + (4 + handle.length) + 8 + 4 + write, 32 * 1024);
    const big = randomBytes(200 * 1024);
    assert.equal(status(await pipe.request({ type: PacketType.WRITE, handle, offset: 0, data: big })), StatusCode.OK, 'a client that ignores the limit');
    assert.equal(status(await pipe.request({ type: PacketType.CLOSE, handle })), StatusCode.OK);
    assert.ok((await fs.readFile('/f')).equals(big));
  });

  it('answers an unknown extension OP_UNSUPPORTED and carries on', async () => {
    const { pipe } = await started(new MemoryFS());
    assert.equal(status(await extended(pipe, 'no-such-thing@example.com', fields((w) => w.string('x')))), StatusCode.OP_UNSUPPORTED);
    assert.equal(singleName(await pipe.request({ type: PacketType.REALPATH, path: '.' })), '/');
    pipe.end();
  });
});

describe('expand-path@openssh.com and home-directory', () => {
  class Homes extends SFTPServerInterface implements HomeDirectoryLookup {
    homeDirectoryOf(username: string): string | undefined {
      return username === 'alice' ? '/users/alice' : undefined;
    }
  }

  async function withHome(si: SFTPServerInterface): Promise<SessionPipe> {
    await si.fs.mkdir('/users');
    await si.fs.mkdir('/users/me');
    await si.fs.mkdir('/users/alice');
    return (await started(si)).pipe;
  }

  it('expands ~, ~/x, the empty path and relative paths against the home, canonicalised as REALPATH', async () => {
    const pipe = await withHome(new SFTPServerInterface(new MemoryFS(), { home: '/users/me' }));
    const expand = async (path: string) => singleName(await extended(pipe, 'expand-path@openssh.com', fields((w) => w.string(path))));
    assert.equal(await expand('~'), '/users/me');
    assert.equal(await expand(''), '/users/me');
    assert.equal(await expand('~/docs/../new'), '/users/me/new');
    assert.equal(await expand('x'), '/users/me/x');
    assert.equal(await expand('/users/./alice/'), '/users/alice');
    pipe.end();
  });

  it('answers ~user NO_SUCH_FILE "no such user" when no user table is known, as OpenSSH for an unknown user', async () => {
    const pipe = await withHome(new SFTPServerInterface(new MemoryFS(), { home: '/users/me' }));
    const reply = expectReply(await extended(pipe, 'expand-path@openssh.com', fields((w) => w.string('~alice/x'))), 'status');
    assert.equal(reply.code, StatusCode.NO_SUCH_FILE);
    assert.equal(reply.message, 'no such user');
    pipe.end();
  });

  it('expands ~user through an interface that knows homes', async () => {
    const pipe = await withHome(new Homes(new MemoryFS(), { home: '/users/me' }));
    assert.equal(singleName(await extended(pipe, 'expand-path@openssh.com', fields((w) => w.string('~alice/x')))), '/users/alice/x');
    assert.equal(singleName(await extended(pipe, 'expand-path@openssh.com', fields((w) => w.string('~alice')))), '/users/alice');
    pipe.end();
  });

  it('home-directory: empty name is the session home, a known user its home, others FAILURE', async () => {
    const pipe = await withHome(new Homes(new MemoryFS(), { home: '/users/me' }));
    const home = (user: string) => extended(pipe, 'home-directory', fields((w) => w.string(user)));
    assert.equal(singleName(await home('')), '/users/me');
    assert.equal(singleName(await home('alice')), '/users/alice');
    assert.equal(status(await home('mallory')), StatusCode.FAILURE);
    pipe.end();
  });
});

describe('users-groups-by-id@openssh.com', () => {
  const idList = (ids: number[]) => Buffer.concat(ids.map((id) => fields((w) => w.uint32(id))));
  const request = (uids: number[], gids: number[]) => fields((w) => w.bytes(idList(uids)).bytes(idList(gids)));
  function decode(reply: Reply): { users: string[]; groups: string[] } {
    const reader = new PacketReader(expectReply(reply, 'extended').payload);
    const list = (bytes: Buffer) => {
      const inner = new PacketReader(bytes);
      const names: string[] = [];
      while (inner.remaining > 0) names.push(inner.string());
      return names;
    };
    return { users: list(reader.bytes()), groups: list(reader.bytes()) };
  }

  it('names host ids on the local disk, in request order, empty for unknown ids', async () => {
    const { pipe } = await started(new LocalFS({ root: '/' }));
    const names = decode(await extended(pipe, 'users-groups-by-id@openssh.com', request([0, 3_999_999_999, 0], [0])));
    assert.deepEqual(names, { users: ['root', '', 'root'], groups: ['root'] });
    pipe.end();
  });

  it('answers empty names where the FS knows no accounts, and empty lists for empty requests', async () => {
    const { pipe } = await started(new MemoryFS());
    assert.deepEqual(decode(await extended(pipe, 'users-groups-by-id@openssh.com', request([0, 1], []))), { users: ['', ''], groups: [] });
    pipe.end();
  });

  it("takes the interface's own table, and READDIR's longnames name the same ids; a failing table leaves ids", async () => {
    const fs = new MemoryFS();
    await fs.writeFile('/f', '');
    const { uid, gid } = await fs.stat('/f');
    const longnameOf = async (pipe: SessionPipe) => {
      const handle = expectReply(await pipe.request({ type: PacketType.OPENDIR, path: '/' }), 'handle').handle;
      return expectReply(await pipe.request({ type: PacketType.READDIR, handle }), 'name').entries[0]!.longname;
    };
    class Named extends SFTPServerInterface {
      override accountNames() {
        return { users: new Map([[uid, 'owner-name']]), groups: new Map([[gid, 'group-name']]) };
      }
    }
    const { pipe } = await started(new Named(fs));
    assert.deepEqual(decode(await extended(pipe, 'users-groups-by-id@openssh.com', request([uid], [gid]))), { users: ['owner-name'], groups: ['group-name'] });
    assert.match(await longnameOf(pipe), /^-\S+ +1 owner-name group-name +0 .* f$/);
    pipe.end();
    class Failing extends SFTPServerInterface {
      override accountNames(): never {
        throw new Error('account database unreachable');
      }
    }
    const failing = (await started(new Failing(fs))).pipe;
    assert.match(await longnameOf(failing), new RegExp(`^-\\S+ +1 ${uid} +${gid} +0 .* f$`));
    failing.end();
  });

  it('refuses an id list that is not whole uint32s with BAD_MESSAGE', async () => {
    const { pipe } = await started(new MemoryFS());
    assert.equal(status(await extended(pipe, 'users-groups-by-id@openssh.com', fields((w) => w.bytes(Buffer.alloc(3)).bytes(Buffer.alloc(0))))), StatusCode.BAD_MESSAGE);
    pipe.end();
  });
});

describe('lsetstat@openssh.com', () => {
  const lsetstat = (pipe: SessionPipe, path: string, attrs: Parameters<PacketWriter['attrs']>[0]) =>
    extended(pipe, 'lsetstat@openssh.com', fields((w) => w.string(path).attrs(attrs)));

  it('sets attributes of a file that is not a link, as setstat', async () => {
    const fs = new MemoryFS();
    await fs.writeFile('/f', 'x');
    const { pipe } = await started(fs);
    assert.equal(status(await lsetstat(pipe, '/f', { permissions: 0o600, atime: 1000, mtime: 2000 })), StatusCode.OK);
    const stats = await fs.stat('/f');
    assert.equal(stats.permissions, 0o600);
    assert.equal(stats.mtime, 2000);
    pipe.end();
  });

  it('refuses a size with BAD_MESSAGE, as OpenSSH does', async () => {
    const fs = new MemoryFS();
    await fs.writeFile('/f', 'abc');
    const { pipe } = await started(fs);
    assert.equal(status(await lsetstat(pipe, '/f', { size: 1 })), StatusCode.BAD_MESSAGE);
    assert.equal((await fs.stat('/f')).size, 3);
    pipe.end();
  });

  it('does not follow a symlink: OP_UNSUPPORTED when the FS cannot change a link, the target untouched', async () => {
    const fs = new MemoryFS();
    await fs.writeFile('/target', 'x');
    await fs.setstat('/target', { permissions: 0o644 });
    await fs.symlink('target', '/link');
    const { pipe } = await started(fs);
    assert.equal(status(await lsetstat(pipe, '/link', { permissions: 0o600 })), StatusCode.OP_UNSUPPORTED);
    assert.equal((await fs.stat('/target')).permissions, 0o644);
    pipe.end();
  });

  it('hands a link to the FS when it can change link attributes', async () => {
    const calls: Array<[string, SetAttributes]> = [];
    const fs = Object.assign(new MemoryFS(), { lsetstat: async (path: string, attrs: SetAttributes) => void calls.push([path, attrs]) });
    await fs.symlink('nowhere', '/link');
    const { pipe } = await started(fs);
    assert.equal(status(await lsetstat(pipe, 'link', { uid: 7, gid: 8 })), StatusCode.OK);
    assert.deepEqual(calls, [['/link', { uid: 7, gid: 8 }]]);
    pipe.end();
  });
});

describe('copy-data', () => {
  const copyData = (pipe: SessionPipe, from: Buffer, readOffset: number, length: number, to: Buffer, writeOffset: number) =>
    extended(pipe, 'copy-data', fields((w) => w.bytes(from).uint64(readOffset).uint64(length).bytes(to).uint64(writeOffset)));

  async function setup(content: Buffer) {
    const fs = new MemoryFS();
    await fs.writeFile('/src', content);
    const { pipe } = await started(fs);
    const from = await openHandle(pipe, '/src', OpenFlag.READ);
    const to = await openHandle(pipe, '/dst', OpenFlag.WRITE | OpenFlag.CREAT | OpenFlag.TRUNC);
    return { fs, pipe, from, to };
  }

  it('copies a whole file (length 0) of several chunks between two handles', async () => {
    const content = randomBytes(1024 * 1024 + 12345);
    const { fs, pipe, from, to } = await setup(content);
    assert.equal(status(await copyData(pipe, from, 0, 0, to, 0)), StatusCode.OK);
    assert.equal(status(await pipe.request({ type: PacketType.CLOSE, handle: to })), StatusCode.OK);
    assert.ok((await fs.readFile('/dst')).equals(content));
    pipe.end();
  });

  it('copies a range to an offset, leaving the rest of the target alone', async () => {
    const content = Buffer.from('0123456789');
    const { fs, pipe, from, to } = await setup(content);
    await pipe.request({ type: PacketType.WRITE, handle: to, offset: 0, data: Buffer.from('abcdefgh') });
    assert.equal(status(await copyData(pipe, from, 3, 4, to, 2)), StatusCode.OK);
    await pipe.request({ type: PacketType.CLOSE, handle: to });
    assert.equal((await fs.readFile('/dst')).toString(), 'ab3456gh');
    pipe.end();
  });

  it('answers EOF when the source ends before the length asked for, after copying what there was', async () => {
    const { fs, pipe, from, to } = await setup(Buffer.from('short'));
    assert.equal(status(await copyData(pipe, from, 0, 100, to, 0)), StatusCode.EOF);
    await pipe.request({ type: PacketType.CLOSE, handle: to });
    assert.equal((await fs.readFile('/dst')).toString(), 'short');
    pipe.end();
  });

  it('refuses the same handle (FAILURE), a target not open for writing, and a bad handle', async () => {
    const { pipe, from, to } = await setup(Buffer.from('data'));
    assert.equal(status(await copyData(pipe, from, 0, 0, from, 0)), StatusCode.FAILURE);
    const sameFile = await openHandle(pipe, '/src', OpenFlag.READ | OpenFlag.WRITE);
    assert.equal(status(await copyData(pipe, from, 0, 0, sameFile, 0)), StatusCode.FAILURE, 'same path through two handles');
    // OpenSSH's write(2) on a read-only fd fails EBADF, which it maps to NO_SUCH_FILE; PERMISSION_DENIED says what happened.
    const readOnly = await openHandle(pipe, '/other', OpenFlag.READ | OpenFlag.CREAT);
    assert.equal(status(await copyData(pipe, from, 0, 0, readOnly, 0)), StatusCode.PERMISSION_DENIED);
    assert.equal(status(await copyData(pipe, Buffer.from('nope'), 0, 0, to, 0)), StatusCode.FAILURE);
    pipe.end();
  });
});

describe('check-file-name, check-file-handle, check-file', () => {
  const content = randomBytes(300_000);
  const digest = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest();
  const request = (target: (w: PacketWriter) => PacketWriter, algorithms: string, offset: number, length: number, blockSize: number) =>
    fields((w) => target(w).string(algorithms).uint64(offset).uint64(length).uint32(blockSize));
  function decode(reply: Reply): { algorithm: string; hashes: Buffer } {
    const reader = new PacketReader(expectReply(reply, 'extended').payload);
    assert.equal(reader.string(), 'check-file');
    return { algorithm: reader.string(), hashes: Buffer.from(reader.rest()) };
  }

  for (const [label, make] of [['an FS that hashes', () => new MemoryFS()], ['an FS without hash (streamed)', () => withoutCapabilities(new MemoryFS(), 'hash')]] as const) {
    describe(`on ${label}`, () => {
      async function setup() {
        const fs = make();
        await fs.writeFile('/f', content);
        const { pipe } = await started(fs);
        return { pipe, handle: await openHandle(pipe, '/f', OpenFlag.READ) };
      }

      it('hashes a whole file by name and by handle with md5, sha1, sha256, sha512', async () => {
        const { pipe, handle } = await setup();
        for (const algorithm of ['md5', 'sha1', 'sha256', 'sha512']) {
          const byName = decode(await extended(pipe, 'check-file-name', request((w) => w.string('/f'), algorithm, 0, 0, 0)));
          assert.deepEqual(byName, { algorithm, hashes: digest(algorithm, content) });
          for (const name of ['check-file-handle', 'check-file']) {
            assert.deepEqual(decode(await extended(pipe, name, request((w) => w.bytes(handle), algorithm, 0, 0, 0))), byName, name);
          }
        }
        pipe.end();
      });

      it('takes the first algorithm of the list it supports, and hashes a range', async () => {
        const { pipe } = await setup();
        const reply = decode(await extended(pipe, 'check-file-name', request((w) => w.string('/f'), 'crc32,sha256,md5', 1000, 5000, 0)));
        assert.deepEqual(reply, { algorithm: 'sha256', hashes: digest('sha256', content.subarray(1000, 6000)) });
        pipe.end();
      });

      it('hashes block by block, the last block short', async () => {
        const { pipe, handle } = await setup();
        const blockSize = 65536;
        const expected = [];
        for (let offset = 100; offset < content.length; offset += blockSize) expected.push(digest('md5', content.subarray(offset, offset + blockSize)));
        const reply = decode(await extended(pipe, 'check-file-handle', request((w) => w.bytes(handle), 'md5', 100, 0, blockSize)));
        assert.equal(reply.hashes.length, 16 * Math.ceil((content.length - 100) / blockSize));
        assert.ok(reply.hashes.equals(Buffer.concat(expected)));
        pipe.end();
      });
    });
  }

  it('refuses no known algorithm, a block size under 256, and too many blocks for one reply (FAILURE)', async () => {
    const fs = new MemoryFS();
    await fs.writeFile('/f', content);
    const { pipe } = await started(fs);
    assert.equal(status(await extended(pipe, 'check-file-name', request((w) => w.string('/f'), 'crc32,sha3-256', 0, 0, 0))), StatusCode.FAILURE);
    assert.equal(status(await extended(pipe, 'check-file-name', request((w) => w.string('/f'), 'md5', 0, 0, 100))), StatusCode.FAILURE);
    await fs.writeFile('/big', Buffer.alloc(256 * 20_000));
    assert.equal(status(await extended(pipe, 'check-file-name', request((w) => w.string('/big'), 'sha512', 0, 0, 256))), StatusCode.FAILURE);
    assert.equal(status(await extended(pipe, 'check-file-name', request((w) => w.string('/missing'), 'md5', 0, 0, 0))), StatusCode.NO_SUCH_FILE);
    pipe.end();
  });
});

describe('PacketWriter growth (replies larger than their first guess)', () => {
  it('keeps every field written after the buffer grows', () => {
    const long = 'n'.repeat(300);
    const reader = new PacketReader(fields((w) => w.string(long).bytes(Buffer.alloc(500, 1)).uint32(7).rawBytes(Buffer.from('end'))));
    assert.equal(reader.string(), long);
    assert.ok(reader.bytes().equals(Buffer.alloc(500, 1)));
    assert.equal(reader.uint32(), 7);
    assert.equal(reader.rest().toString(), 'end');
  });
});

describe('hashRange', () => {
  it('gives the same digests when the file answers in short reads', async () => {
    const data = randomBytes(10_000);
    const stingy = { read: async (offset: number, length: number) => data.subarray(offset, offset + Math.min(length, 777)) };
    assert.ok((await hashRange(stingy, 'sha1', 0, 0)).equals(createHash('sha1').update(data).digest()));
    const blocks = await hashRange(stingy, 'md5', 10, 5000, { blockSize: 1000 });
    const expected = Buffer.concat([0, 1, 2, 3, 4].map((i) => createHash('md5').update(data.subarray(10 + i * 1000, 1010 + i * 1000)).digest()));
    assert.ok(blocks.equals(expected));
  });

  it('hashes an empty range as the empty digest, and gives no digests block-wise', async () => {
    const empty = { read: async () => Buffer.alloc(0) };
    assert.ok((await hashRange(empty, 'md5', 0, 0)).equals(createHash('md5').digest()));
    assert.equal((await hashRange(empty, 'md5', 0, 0, { blockSize: 256 })).length, 0);
  });
});
