import type { NodeFdLike, NodeFileHandleLike, NodeStatsLike } from './fsLike.js';
import { callback, type Syscalls } from './syscalls.js';

/**
 * Reads and writes up to this size are made synchronously (while the data
 * guard allows): a page-cache copy of a few KiB takes microseconds, a
 * threadpool round trip tens of them, and small files are where per-call
 * latency dominates. Larger ones stay asynchronous, so that a big transfer
 * never holds the event loop.
 */
export const SMALL_IO = 64 * 1024;

/**
 * A file opened as a plain descriptor, with the shape of an `fs.promises`
 * FileHandle so that NodeFileHandle works on either. Metadata calls (fstat,
 * close, ftruncate...) go through the Syscalls' metadata guard, small data
 * calls through its data guard, fsync and large data calls are asynchronous.
 */
export class FdHandle implements NodeFileHandleLike {
  /** -1 once closed: a descriptor number is reused by the next open, so it must never be used again. */
  private fd: number;

  constructor(
    private readonly fs: NodeFdLike,
    fd: number,
    private readonly calls: Syscalls,
  ) {
    this.fd = fd;
  }

  private open(): number {
    if (this.fd < 0) throw Object.assign(new Error('EBADF: file already closed'), { code: 'EBADF' });
    return this.fd;
  }

  private metadata<T>(sync: (fd: number) => T, async: (fd: number) => Promise<T>): Promise<T> {
    let fd: number;
    try {
      fd = this.open();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.calls.run(this.calls.metadata, () => sync(fd), () => async(fd));
  }

  async read(buffer: Buffer, offset: number, length: number, position: number | null): Promise<{ bytesRead: number }> {
    const fd = this.open();
    const fs = this.fs;
    const bytesRead = await this.calls.run(
      this.calls.data,
      length <= SMALL_IO ? () => fs.readSync(fd, buffer, offset, length, position) : undefined,
      () => callback<number>((cb) => fs.read(fd, buffer, offset, length, position, cb)),
    );
    return { bytesRead };
  }

  async write(buffer: Buffer, offset: number, length: number, position: number | null): Promise<{ bytesWritten: number }> {
    const fd = this.open();
    const fs = this.fs;
    const bytesWritten = await this.calls.run(
      this.calls.data,
      length <= SMALL_IO ? () => fs.writeSync(fd, buffer, offset, length, position) : undefined,
      () => callback<number>((cb) => fs.write(fd, buffer, offset, length, position, cb)),
    );
    return { bytesWritten };
  }

  stat(): Promise<NodeStatsLike> {
    return this.metadata((fd) => this.fs.fstatSync(fd), (fd) => callback((cb) => this.fs.fstat(fd, cb)));
  }

  truncate(length = 0): Promise<void> {
    return this.metadata((fd) => this.fs.ftruncateSync(fd, length), (fd) => callback((cb) => this.fs.ftruncate(fd, length, cb)));
  }

  utimes(atime: number, mtime: number): Promise<void> {
    return this.metadata((fd) => this.fs.futimesSync(fd, atime, mtime), (fd) => callback((cb) => this.fs.futimes(fd, atime, mtime, cb)));
  }

  chmod(mode: number): Promise<void> {
    return this.metadata((fd) => this.fs.fchmodSync(fd, mode), (fd) => callback((cb) => this.fs.fchmod(fd, mode, cb)));
  }

  chown(uid: number, gid: number): Promise<void> {
    return this.metadata((fd) => this.fs.fchownSync(fd, uid, gid), (fd) => callback((cb) => this.fs.fchown(fd, uid, gid, cb)));
  }

  /** Always asynchronous: flushing to the device takes milliseconds. */
  async sync(): Promise<void> {
    const fd = this.open();
    await callback((cb) => this.fs.fsync(fd, cb));
  }

  /** Closes once; later calls (and a second close) fail with EBADF rather than touch a reused descriptor. */
  close(): Promise<void> {
    let fd: number;
    try {
      fd = this.open();
    } catch (error) {
      return Promise.reject(error);
    }
    this.fd = -1;
    return this.calls.run(this.calls.metadata, () => this.fs.closeSync(fd), () => callback((cb) => this.fs.close(fd, cb)));
  }
}
