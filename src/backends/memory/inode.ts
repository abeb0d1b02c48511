import type { FileType, Stats } from '../../fs/types.js';

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
  /** Backing store; its length is the capacity, only the first `size` bytes are content. */
  data: Buffer;
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

/** Smallest backing store a non-empty file gets, so tiny appends do not reallocate each time. */
const MIN_CAPACITY = 4096;

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

/**
 * Sets a file's size, zero-filling when it grows. Capacity grows geometrically
 * so a stream of 32 KiB writes costs amortised O(1) copies, and shrinks when a
 * file is cut to well under its capacity so truncation releases memory.
 */
export function resizeFile(node: FileNode, size: number): void {
  if (size > node.data.length) {
    const grown = Buffer.alloc(Math.max(size, node.data.length * 2, MIN_CAPACITY));
    node.data.copy(grown, 0, 0, node.size);
    node.data = grown;
  } else if (size < node.size) {
    if (size < node.data.length / 4) {
      const shrunk = Buffer.alloc(Math.max(size, size === 0 ? 0 : MIN_CAPACITY));
      node.data.copy(shrunk, 0, 0, size);
      node.data = shrunk;
    } else {
      // Bytes past the end must read back as zeros if the file grows again.
      node.data.fill(0, size, node.size);
    }
  }
  node.size = size;
}

/** Writes `data` at `offset`, growing (and zero-filling any hole) as needed. */
export function writeFileNode(node: FileNode, offset: number, data: Buffer): void {
  const end = offset + data.length;
  if (end > node.size) resizeFile(node, end);
  data.copy(node.data, offset);
}

/** A copy of the bytes in [offset, offset+length), clipped at end of file. */
export function readFileNode(node: FileNode, offset: number, length: number): Buffer {
  if (offset >= node.size) return Buffer.alloc(0);
  return Buffer.from(node.data.subarray(offset, Math.min(node.size, offset + length)));
}

/** Copies what `readFileNode` would return into `target`; returns how many bytes. */
export function readFileNodeInto(node: FileNode, offset: number, target: Buffer): number {
  if (offset >= node.size) return 0;
  return node.data.copy(target, 0, offset, Math.min(node.size, offset + target.length));
}
