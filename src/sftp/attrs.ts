import type { SetAttributes, Stats } from '../fs/types.js';
import type { WireAttrs } from './protocol/codec.js';
import { FileMode } from './protocol/constants.js';

const typeBits: Record<Stats['type'], number> = {
  file: FileMode.S_IFREG,
  directory: FileMode.S_IFDIR,
  symlink: FileMode.S_IFLNK,
  other: 0,
};

/** Stats as SFTP sends them: the type folded into the mode bits, times as whole seconds. */
export function statsToWire(stats: Stats): WireAttrs {
  return {
    size: stats.size,
    uid: stats.uid,
    gid: stats.gid,
    permissions: typeBits[stats.type] | (stats.permissions & 0o7777),
    atime: Math.floor(stats.atime),
    mtime: Math.floor(stats.mtime),
  };
}

/** A client's SETSTAT attributes for the FS: only permission bits, never a type change. */
export function wireToSetAttributes(attrs: WireAttrs): SetAttributes {
  const result: SetAttributes = {};
  if (attrs.size !== undefined) result.size = attrs.size;
  if (attrs.permissions !== undefined) result.permissions = attrs.permissions & 0o7777;
  if (attrs.uid !== undefined) result.uid = attrs.uid;
  if (attrs.gid !== undefined) result.gid = attrs.gid;
  if (attrs.atime !== undefined) result.atime = attrs.atime;
  if (attrs.mtime !== undefined) result.mtime = attrs.mtime;
  return result;
}
