import type { FS } from '../FS.js';
import { readIntoFile } from '../readInto.js';
import type { FileHandle, OpenFlags, SetAttributes } from '../types.js';
import { WrapFileHandle, WrapFS } from './WrapFS.js';

/**
 * Something that paces bytes: resolves once `bytes` may pass. A token bucket
 * (see `src/server/defence/tokenBucket.ts`) is the usual one; the FS layer
 * knows only this shape, so it stays free of server concerns.
 */
export type BytePacer = (bytes: number) => Promise<void>;

/** How a {@link ThrottledFS} paces each direction (absent: unpaced). */
export interface ThrottleOptions {
  /** File contents read (what an SFTP client downloads). */
  read?: BytePacer;
  /** File contents written (what an SFTP client uploads). */
  write?: BytePacer;
}

/** An open file whose reads and writes wait for their pacer. */
class ThrottledFileHandle extends WrapFileHandle {
  constructor(inner: FileHandle, private readonly pace: ThrottleOptions) {
    super(inner);
  }

  override async read(offset: number, length: number): Promise<Buffer> {
    const data = await this.inner.read(offset, length);
    // Paced after the read: only bytes that exist are charged (a short read at EOF costs little).
    if (this.pace.read && data.length > 0) await this.pace.read(data.length);
    return data;
  }

  override async readInto(target: Buffer, offset: number): Promise<number> {
    const bytes = await readIntoFile(this.inner, target, offset);
    if (this.pace.read && bytes > 0) await this.pace.read(bytes);
    return bytes;
  }

  override async write(offset: number, data: Buffer): Promise<void> {
    if (this.pace.write && data.length > 0) await this.pace.write(data.length);
    return this.inner.write(offset, data);
  }
}

/**
 * Any FS with file reads and writes paced, for bandwidth limits. Being an FS
 * wrapper, it limits every backend alike; pacers shared by several wrappers
 * (one per session) share one budget. Only file contents are paced: listings
 * and attributes are small, and server-side `copy`/`hash` move no bytes over
 * the network. Everything else, optional capabilities included, passes through.
 *
 * ```ts
 * const bucket = new TokenBucket(5 * 2 ** 20);
 * const fs = new ThrottledFS(inner, { read: (n) => bucket.take(n) });
 * ```
 */
export class ThrottledFS extends WrapFS {
  constructor(inner: FS, private readonly pace: ThrottleOptions) {
    super(inner);
  }

  override async open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle> {
    return new ThrottledFileHandle(await this.inner.open(path, flags, attrs), this.pace);
  }
}
