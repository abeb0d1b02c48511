import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { fromErrno } from '../../fs/errors.js';
import type { FileHandle } from '../../fs/types.js';
import { WrapFileHandle } from '../../fs/wrappers/WrapFS.js';

/** What an atomic upload needs of the filesystem underneath: host-path rename and unlink. */
export interface PublishOps {
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

/**
 * A hidden name next to `target` for an upload in progress: same directory
 * (so the final rename stays on one filesystem), random so uploads of one
 * name do not collide, and short, whatever the length of the real name.
 */
export function partialUploadPath(target: string): string {
  return posix.join(posix.dirname(target), `.sftp-expose-upload-${randomBytes(8).toString('hex')}.partial`);
}

/**
 * A new file written under a hidden name and renamed onto its real name only
 * when it closes successfully. Until then readers see the old file (or none);
 * an upload that fails or is abandoned (the session dies, the server's
 * shutdown deadline passes) is deleted, never left half-written under the
 * name a downstream process watches.
 */
export class AtomicUpload extends WrapFileHandle {
  private finished = false;

  constructor(
    inner: FileHandle,
    private readonly partialHost: string,
    private readonly targetHost: string,
    private readonly path: string,
    private readonly ops: PublishOps,
  ) {
    super(inner);
  }

  /** Flushes, then publishes under the real name; on any failure the partial file is removed. */
  override async close(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    try {
      await this.inner.close();
      await this.ops.rename(this.partialHost, this.targetHost);
    } catch (error) {
      await this.ops.unlink(this.partialHost).catch(() => {});
      throw fromErrno(error, this.path);
    }
  }

  /** Discards the upload: the real name keeps what it had before. */
  override readonly abort = async (): Promise<void> => {
    if (this.finished) return;
    this.finished = true;
    await this.inner.close().catch(() => {});
    await this.ops.unlink(this.partialHost).catch(() => {});
  };
}
