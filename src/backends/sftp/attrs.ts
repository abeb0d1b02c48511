import type { InputAttributes } from 'ssh2';
import type { FileType, SetAttributes, Stats } from '../../fs/types.js';

const S_IFMT = 0o170000;
const typeByFormat = new Map<number, FileType>([
  [0o040000, 'directory'],
  [0o100000, 'file'],
  [0o120000, 'symlink'],
]);

/** The attributes ssh2 decodes; a server may leave any of them out. */
export interface WireStats {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: number;
  mtime?: number;
}

/** SFTP attributes as FS Stats. A server that sends no mode gives no type either: we call it a file. */
export function statsFromWire(attrs: WireStats): Stats {
  const mode = attrs.mode;
  const type = mode === undefined ? 'file' : (typeByFormat.get(mode & S_IFMT) ?? 'other');
  return {
    type,
    size: attrs.size ?? 0,
    permissions: (mode ?? 0) & 0o7777,
    uid: attrs.uid ?? 0,
    gid: attrs.gid ?? 0,
    atime: attrs.atime ?? 0,
    mtime: attrs.mtime ?? 0,
  };
}

/** Whether setting `attrs` needs the current values first: SFTP v3 sends uid with gid and atime with mtime, never one alone. */
export function needsCurrentStats(attrs: SetAttributes): boolean {
  return (attrs.uid === undefined) !== (attrs.gid === undefined) || (attrs.atime === undefined) !== (attrs.mtime === undefined);
}

/**
 * FS attributes as ssh2 sends them. `current` fills the missing half of a
 * uid/gid or atime/mtime pair. Times go as whole seconds (SFTP v3 has no finer unit).
 */
export function setAttributesToWire(attrs: SetAttributes, current?: Stats): InputAttributes {
  const wire: InputAttributes = {};
  if (attrs.size !== undefined) wire.size = attrs.size;
  if (attrs.permissions !== undefined) wire.mode = attrs.permissions & 0o7777;
  if (attrs.uid !== undefined || attrs.gid !== undefined) {
    wire.uid = attrs.uid ?? current?.uid;
    wire.gid = attrs.gid ?? current?.gid;
  }
  if (attrs.atime !== undefined || attrs.mtime !== undefined) {
    wire.atime = Math.floor(attrs.atime ?? current?.atime ?? 0);
    wire.mtime = Math.floor(attrs.mtime ?? current?.mtime ?? 0);
  }
  return wire;
}
