import { InvalidArgument, PermissionDenied } from '../../fs/errors.js';
import type { FileHandle, OpenFlags, SetAttributes, Stats } from '../../fs/types.js';
import { readFileNode, readFileNodeInto, statsOf, type FileNode } from './inode.js';
import type { MemoryStorage } from './storage.js';

/** Applies attributes to a file inode; shared by path setstat and handle setstat. */
export type ApplyAttributes = (node: FileNode, attrs: SetAttributes, path: string) => void;

/**
 * An open MemoryFS file. It holds the inode, not the name, so it keeps
 * working after the file is renamed or unlinked, as on POSIX.
 */
export class MemoryFileHandle implements FileHandle {
  private closed = false;

  constructor(
    private readonly node: FileNode,
    private readonly flags: OpenFlags,
    private readonly path: string,
    private readonly storage: MemoryStorage,
    private readonly applyAttributes: ApplyAttributes,
  ) {
    node.openHandles++;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    this.checkReadable(offset, length);
    return readFileNode(this.node, offset, length);
  }

  async readInto(target: Buffer, offset: number): Promise<number> {
    this.checkReadable(offset, target.length);
    return readFileNodeInto(this.node, offset, target);
  }

  private checkReadable(offset: number, length: number): void {
    this.checkOpen();
    checkRange(offset, length, this.path);
    // EBADF on Linux; PermissionDenied is what an SFTP client can act on.
    if (!this.flags.read) throw new PermissionDenied(this.path, { message: 'File not open for reading' });
  }

  async write(offset: number, data: Buffer): Promise<void> {
    this.checkOpen();
    checkRange(offset, data.length, this.path);
    if (!this.flags.write) throw new PermissionDenied(this.path, { message: 'File not open for writing' });
    this.storage.write(this.node, this.flags.append ? this.node.size : offset, data, this.path);
  }

  async stat(): Promise<Stats> {
    this.checkOpen();
    return statsOf(this.node);
  }

  async setstat(attrs: SetAttributes): Promise<void> {
    this.checkOpen();
    this.applyAttributes(this.node, attrs, this.path);
  }

  async close(): Promise<void> {
    // Idempotent: a second close has nothing left to release.
    if (this.closed) return;
    this.closed = true;
    this.node.openHandles--;
    this.storage.releaseIfUnreferenced(this.node);
  }

  /** Memory is as durable as it gets; present so the server can advertise fsync. */
  async fsync(): Promise<void> {
    this.checkOpen();
  }

  private checkOpen(): void {
    if (this.closed) throw new InvalidArgument(this.path, { message: 'File handle is closed' });
  }
}

function checkRange(offset: number, length: number, path: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new InvalidArgument(path, { message: `Invalid offset or length (${offset}, ${length})` });
  }
}
