import type { FS } from '../fs/FS.js';
import { Unsupported } from '../fs/errors.js';
import { PacketReader, PacketWriter } from './protocol/codec.js';
import { StatVFSFlag, StatusCode } from './protocol/constants.js';
import { encodeExtendedReply, encodeStatus } from './protocol/messages.js';
import type { SessionLimits } from './limits.js';
import type { OpenFile, SFTPServerInterface } from './SFTPServerInterface.js';
import type { StatVFS } from '../fs/types.js';

/** What an extension handler may reach of its session. */
export interface ExtensionContext {
  si: SFTPServerInterface;
  limits: SessionLimits;
  /** The open file behind a handle, run in that handle's order; throws for a bad handle. */
  withFile<T>(handle: Buffer, mode: 'shared' | 'exclusive', operation: (open: OpenFile) => Promise<T>): Promise<T>;
}

/** One EXTENDED request type: advertised in VERSION only when the FS can do it. */
export interface Extension {
  name: string;
  /** The version string sent in VERSION (OpenSSH's extensions use "1"). */
  version: string;
  /** Extensions that change the filesystem are not offered on a read-only FS. */
  writes: boolean;
  isAvailable(fs: FS): boolean;
  /** Reads its own fields from `payload` and returns the encoded reply. */
  handle(context: ExtensionContext, id: number, payload: PacketReader): Promise<Buffer>;
}

const ok = (id: number) => encodeStatus(id, StatusCode.OK);
const always = () => true;

function encodeStatVFS(id: number, vfs: StatVFS): Buffer {
  const writer = new PacketWriter(0, 96);
  for (const value of [vfs.blockSize, vfs.fragmentSize, vfs.blocks, vfs.blocksFree, vfs.blocksAvailable, vfs.files, vfs.filesFree, vfs.filesAvailable, vfs.fsid]) {
    writer.uint64(value);
  }
  writer.uint64(vfs.readOnly ? StatVFSFlag.RDONLY : 0).uint64(vfs.nameMax);
  return encodeExtendedReply(id, writer.fields());
}

async function statvfsOf(fs: FS, path: string): Promise<StatVFS> {
  if (!fs.statvfs) throw new Unsupported(path);
  return fs.statvfs(path);
}

export const builtinExtensions: Extension[] = [
  {
    name: 'posix-rename@openssh.com', version: '1', writes: true, isAvailable: always,
    async handle({ si }, id, payload) {
      await si.posixRename(payload.string('oldpath'), payload.string('newpath'));
      return ok(id);
    },
  },
  {
    name: 'statvfs@openssh.com', version: '2', writes: false, isAvailable: (fs) => typeof fs.statvfs === 'function',
    async handle({ si }, id, payload) {
      return encodeStatVFS(id, await statvfsOf(si.fs, si.resolve(payload.string('path'))));
    },
  },
  {
    name: 'fstatvfs@openssh.com', version: '2', writes: false, isAvailable: (fs) => typeof fs.statvfs === 'function',
    async handle({ si, withFile }, id, payload) {
      const vfs = await withFile(payload.bytes('handle'), 'shared', (open) => statvfsOf(si.fs, open.path));
      return encodeStatVFS(id, vfs);
    },
  },
  {
    name: 'hardlink@openssh.com', version: '1', writes: true, isAvailable: (fs) => typeof fs.link === 'function',
    async handle({ si }, id, payload) {
      const oldPath = si.resolve(payload.string('oldpath'));
      const newPath = si.resolve(payload.string('newpath'));
      if (!si.fs.link) throw new Unsupported(newPath);
      await si.fs.link(oldPath, newPath);
      return ok(id);
    },
  },
  {
    name: 'fsync@openssh.com', version: '1', writes: false, isAvailable: always,
    async handle({ withFile }, id, payload) {
      await withFile(payload.bytes('handle'), 'exclusive', async (open) => {
        if (!open.file.fsync) throw new Unsupported(open.path, { message: 'fsync is not supported by this filesystem' });
        await open.file.fsync();
      });
      return ok(id);
    },
  },
  {
    name: 'limits@openssh.com', version: '1', writes: false, isAvailable: always,
    async handle({ limits }, id) {
      const writer = new PacketWriter(0, 40)
        .uint64(limits.maxPacketLength)
        .uint64(limits.maxReadLength)
        .uint64(limits.maxWriteLength)
        .uint64(limits.maxOpenHandles);
      return encodeExtendedReply(id, writer.fields());
    },
  },
];
