import { InsufficientStorage } from '../../fs/errors.js';
import { nowSeconds, resizeFile, writeFileNode, type FileNode, type Metadata } from './inode.js';
import { FileContent } from './content.js';

/**
 * Owns the bytes of every file of one MemoryFS: all size changes go through
 * it so `statvfs` can report usage and writes beyond the capacity fail the way
 * a full disk does (ENOSPC), instead of exhausting the process's memory.
 */
export class MemoryStorage {
  /** Bytes of content held, including files unlinked but still open. */
  used = 0;
  /** Inodes alive (files, directories, symlinks). */
  inodes = 0;

  constructor(readonly capacity: number) {}

  newFile(meta: Metadata): FileNode {
    this.inodes++;
    return { kind: 'file', meta, content: new FileContent(), size: 0, links: 0, openHandles: 0 };
  }

  resize(node: FileNode, size: number, path?: string): void {
    this.reserve(size - node.size, path);
    resizeFile(node, size);
    node.meta.mtime = nowSeconds();
  }

  write(node: FileNode, offset: number, data: Buffer, path?: string): void {
    this.reserve(Math.max(0, offset + data.length - node.size), path);
    writeFileNode(node, offset, data);
    node.meta.mtime = nowSeconds();
  }

  /** Frees a file's bytes once no name and no handle refers to it (POSIX last-close rule). */
  releaseIfUnreferenced(node: FileNode): void {
    if (node.links > 0 || node.openHandles > 0) return;
    this.used -= node.size;
    this.inodes--;
    resizeFile(node, 0);
  }

  private reserve(growth: number, path?: string): void {
    if (growth > 0 && this.used + growth > this.capacity) throw new InsufficientStorage(path);
    this.used += growth;
  }
}
