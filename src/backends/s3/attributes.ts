import type { SetAttributes, Stats } from '../../fs/types.js';

/**
 * File attributes stored as S3 user metadata (x-amz-meta-*), with the names
 * and formats rclone uses, so files written by one are read right by the
 * other: `mtime`/`atime` as decimal seconds, `mode` as octal with the type
 * bits, `uid`/`gid` as decimal. S3 itself keeps only LastModified (the time
 * of the upload), which stands in for a missing `mtime`.
 */
export type ObjectMetadata = Record<string, string>;

/** Who objects belong to, and the modes of objects without stored ones. */
export interface AttributeDefaults {
  uid: number;
  gid: number;
  fileMode: number;
  directoryMode: number;
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/** What S3 reports about an object, from HEAD or from a listing (no metadata there). */
export interface ObjectInfo {
  size: number;
  lastModified?: Date;
  metadata?: ObjectMetadata;
}

/** Stats of a file or directory object (for a directory without marker, `info` is undefined). */
export function statsOf(type: 'file' | 'directory', info: ObjectInfo | undefined, defaults: AttributeDefaults): Stats {
  const metadata = info?.metadata ?? {};
  const modified = info?.lastModified ? info.lastModified.getTime() / 1000 : 0;
  const mtime = parseNumber(metadata.mtime) ?? modified;
  const mode = metadata.mode !== undefined ? Number.parseInt(metadata.mode, 8) : Number.NaN;
  return {
    type,
    size: type === 'file' ? (info?.size ?? 0) : 0,
    permissions: Number.isFinite(mode) ? mode & 0o7777 : type === 'file' ? defaults.fileMode : defaults.directoryMode,
    uid: parseNumber(metadata.uid) ?? defaults.uid,
    gid: parseNumber(metadata.gid) ?? defaults.gid,
    atime: parseNumber(metadata.atime) ?? mtime,
    mtime,
  };
}

/**
 * Metadata after applying `attrs` to `current`. Content changes (`contentChanged`)
 * drop stored times: the new upload's LastModified is the new mtime, as a
 * write updates mtime on a disk.
 */
export function applyAttributes(
  current: ObjectMetadata,
  attrs: SetAttributes,
  type: 'file' | 'directory',
  contentChanged = false,
): ObjectMetadata {
  const next: ObjectMetadata = { ...current };
  if (contentChanged) {
    delete next.mtime;
    delete next.atime;
  }
  if (attrs.permissions !== undefined) next.mode = ((type === 'file' ? S_IFREG : S_IFDIR) | (attrs.permissions & 0o7777)).toString(8);
  if (attrs.uid !== undefined) next.uid = String(attrs.uid);
  if (attrs.gid !== undefined) next.gid = String(attrs.gid);
  if (attrs.mtime !== undefined) next.mtime = formatSeconds(attrs.mtime);
  if (attrs.atime !== undefined) next.atime = formatSeconds(attrs.atime);
  return next;
}

/** True when `attrs` asks for a metadata change (anything but size). */
export function changesMetadata(attrs: SetAttributes): boolean {
  return attrs.permissions !== undefined || attrs.uid !== undefined || attrs.gid !== undefined || attrs.mtime !== undefined || attrs.atime !== undefined;
}

function formatSeconds(seconds: number): string {
  return seconds.toFixed(9).replace(/\.?0+$/, '');
}

function parseNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
