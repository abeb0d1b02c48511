import type { FS } from '../../fs/FS.js';
import { Unsupported } from '../../fs/errors.js';
import type { SetAttributes, StatVFS } from '../../fs/types.js';
import { wireToSetAttributes } from '../attrs.js';
import { PacketWriter } from '../protocol/codec.js';
import { StatVFSFlag, StatusCode } from '../protocol/constants.js';
import { encodeExtendedReply } from '../protocol/messages.js';
import { SFTPStatusError } from '../translateErrors.js';
import { always, okStatus, type Extension } from './types.js';

/**
 * A backend that can change a symlink's own attributes (lchown, lutimes)
 * implements this; without it lsetstat on a link is refused as unsupported.
 */
export interface LinkAttributesFS {
  lsetstat(path: string, attrs: SetAttributes): Promise<void>;
}

function canSetLinkAttributes(fs: FS): fs is FS & LinkAttributesFS {
  return typeof (fs as Partial<LinkAttributesFS>).lsetstat === 'function';
}

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

/** The @openssh.com extensions that map one to one onto an FS call (OpenSSH's PROTOCOL, section 4). */
export const opensshExtensions: Extension[] = [
  {
    name: 'posix-rename@openssh.com', version: '1', writes: true, isAvailable: always,
    async handle({ si }, id, payload) {
      await si.posixRename(payload.string('oldpath'), payload.string('newpath'));
      return okStatus(id);
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
      return okStatus(id);
    },
  },
  {
    name: 'fsync@openssh.com', version: '1', writes: false, isAvailable: always,
    async handle({ withFile }, id, payload) {
      await withFile(payload.bytes('handle'), 'exclusive', async (open) => {
        if (!open.file.fsync) throw new Unsupported(open.path, { message: 'fsync is not supported by this filesystem' });
        await open.file.fsync();
      });
      return okStatus(id);
    },
  },
  {
    name: 'lsetstat@openssh.com', version: '1', writes: true, isAvailable: always,
    async handle({ si }, id, payload) {
      const path = si.resolve(payload.string('path'));
      const wire = payload.attrs();
      // A size makes no sense for a link; OpenSSH answers BAD_MESSAGE whatever the path is.
      if (wire.size !== undefined) throw new SFTPStatusError(StatusCode.BAD_MESSAGE, 'lsetstat cannot set a size');
      const attrs = wireToSetAttributes(wire);
      if ((await si.fs.lstat(path)).type !== 'symlink') {
        await si.fs.setstat(path, attrs);
      } else if (canSetLinkAttributes(si.fs)) {
        await si.fs.lsetstat(path, attrs);
      } else if (Object.values(attrs).some((value) => value !== undefined)) {
        // OpenSSH on Linux cannot chmod a link either (EOPNOTSUPP, answered FAILURE); we say OP_UNSUPPORTED, which is what it is.
        throw new Unsupported(path, { message: 'This filesystem cannot change the attributes of a symbolic link' });
      }
      return okStatus(id);
    },
  },
  {
    name: 'limits@openssh.com', version: '1', writes: false, isAvailable: always,
    async handle({ limits }, id) {
      const writer = new PacketWriter(0, 40)
        .uint64(limits.maxPacketLength)
        .uint64(limits.maxReadLength)
        .uint64(Math.min(limits.advertisedWriteLength, limits.maxWriteLength))
        .uint64(limits.maxOpenHandles);
      return encodeExtendedReply(id, writer.fields());
    },
  },
];
