import type { FileType, Stats } from '../../fs/types.js';
import { FileContent } from './content.js';

/** Attributes every in-memory object carries, as an inode would. */
export interface Metadata {
  permissions: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
}

/**
 * A regular file's inode. Directory entries (hard links) and open handles
 * share it, so content outlives its last name while a handle is open.
 */
export interface FileNode {
  kind: 'file';
  meta: Metadata;
  /** The bytes; only the first `size` are the file's. */
  content: FileContent;
  size: number;
  /** Names pointing at this inode; 0 once unlinked everywhere. */
  links: number;
  openHandles: number;
}

export interface DirectoryNode {
  kind: 'directory';
  meta: Metadata;
  entries: Map<string, Node>;
  /** Kept current so nlink (2 + subdirectories) is O(1) per stat, as listings need. */
  subdirectories: number;
}

export interface SymlinkNode {
  kind: 'symlink';
  meta: Metadata;
  target: string;
}

export type Node = FileNode | DirectoryNode | SymlinkNode;

const typeOfKind: Record<Node['kind'], FileType> = { file: 'file', directory: 'directory', symlink: 'symlink' };

export function nowSeconds(): number {
  return Date.now() / 1000;
}

export function statsOf(node: Node): Stats {
  const { permissions, uid, gid, atime, mtime } = node.meta;
  let size: number;
  let nlink: number;
  switch (node.kind) {
    case 'file':
      size = node.size;
      nlink = node.links;
      break;
    case 'directory':
      size = 4096;
      nlink = 2 + node.subdirectories;
      break;
    case 'symlink':
      size = Buffer.byteLength(node.target);
      nlink = 1;
      break;
  }
  return { type: typeOfKind[node.kind], size, permissions, uid, gid, atime, mtime, nlink };
}

/** Sets a file's size; growing shows zeros. */
export function resizeFile(node: FileNode, size: number): void {
  if (size < node.size) node.content.truncate(size);
  node.size = size;
}

/** Writes `data` at `offset`, growing (and zero-filling any hole) as needed. */
export function writeFileNode(node: FileNode, offset: number, data: Buffer): void {
  node.content.write(offset, data);
  node.size = Math.max(node.size, offset + data.length);
}

/** A copy of the bytes in [offset, offset+length), clipped at end of file. */
export function readFileNode(node: FileNode, offset: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(Math.max(0, Math.min(length, node.size - offset)));
  readFileNodeInto(node, offset, bytes);
  return bytes;
}

/** Copies what `readFileNode` would return into `target`; returns how many bytes. */
export function readFileNodeInto(node: FileNode, offset: number, target: Buffer): number {
  const length = Math.max(0, Math.min(target.length, node.size - offset));
  node.content.readInto(offset, target.subarray(0, length));
  return length;
}
