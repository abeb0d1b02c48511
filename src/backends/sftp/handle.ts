import { FSError, InvalidArgument, IsADirectory, PermissionDenied } from '../../fs/errors.js';
import type { FileHandle, OpenFlags, SetAttributes, Stats } from '../../fs/types.js';
import { needsCurrentStats, setAttributesToWire, statsFromWire, type WireStats } from './attrs.js';
import type { Callback, UpstreamConnection } from './connection.js';
import { errorFromStatus, SFTPStatus, statusOf } from './errors.js';

/**
 * Bytes of writes sent upstream and not yet acknowledged, per handle. The
 * session above orders writes on a handle one after the other; answering a
 * write once it is on its way (not once acknowledged) is what lets many be in
 * flight upstream, so a transfer runs at bandwidth, not at one round trip per chunk.
 */
const WRITE_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * A file open on the upstream. Reads map onto upstream READs (split at the
 * upstream's read limit, all sent at once); writes are sent at once and
 * acknowledged later (write-behind), a failure reaching the next write,
 * read, stat, fsync or close — as a local disk's write-back cache reports it.
 */
export class SFTPFileHandle implements FileHandle {
  private closed = false;
  private unacknowledgedBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private writeFailure?: FSError;

  /** Present only when the upstream offers fsync@openssh.com. */
  readonly fsync?: () => Promise<void>;

  constructor(
    private readonly connection: UpstreamConnection,
    /** The upstream's handle string. */
    readonly handle: Buffer,
    private readonly path: string,
    private readonly flags: OpenFlags,
  ) {
    if (connection.hasExtension('fsync@openssh.com')) {
      this.fsync = async () => {
        await this.settleWrites();
        await this.request((cb) => connection.sftp.ext_openssh_fsync(handle, cb));
      };
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(offset, length, this.path);
    await this.settleWrites();
    if (length === 0) return Buffer.alloc(0);
    const chunk = this.connection.maxReadLength;
    const parts: Promise<Buffer>[] = [];
    for (let start = 0; start < length; start += chunk) parts.push(this.readOnce(offset + start, Math.min(chunk, length - start)));
    const buffers = await Promise.all(parts);
    // A short piece ends the answer: what follows it may not continue it (EOF, or a server reading less).
    const used: Buffer[] = [];
    for (let i = 0; i < buffers.length; i++) {
      used.push(buffers[i]!);
      if (buffers[i]!.length < Math.min(chunk, length - i * chunk)) break;
    }
    return used.length === 1 ? used[0]! : Buffer.concat(used);
  }

  private async readOnce(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    try {
      const bytes = await this.connection.call<number>((cb) => this.connection.sftp.read(this.handle, buffer, 0, length, position, cb));
      return bytes === length ? buffer : buffer.subarray(0, bytes);
    } catch (error) {
      throw await this.readFailure(error);
    }
  }

  /** OpenSSH opens a directory for reading and fails the read (FAILURE); say what it was. */
  private async readFailure(error: unknown): Promise<FSError> {
    if (statusOf(error) === SFTPStatus.FAILURE) {
      const stats = await this.connection.call<WireStats>((cb) => this.connection.sftp.fstat(this.handle, cb)).catch(() => undefined);
      if (stats && statsFromWire(stats).type === 'directory') return new IsADirectory(this.path, { cause: error });
    }
    return errorFromStatus(error, this.path);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    checkRange(offset, data.length, this.path);
    this.checkUsable();
    // Refused here, not upstream: with write-behind the upstream's refusal would only reach the next call.
    if (!this.flags.write) throw new PermissionDenied(this.path, { message: 'File not open for writing' });
    const chunk = this.connection.maxWriteLength;
    for (let start = 0; start < data.length; start += chunk) {
      while (this.unacknowledgedBytes >= WRITE_WINDOW_BYTES) await Promise.race(this.inFlight);
      this.checkUsable();
      this.send(offset + start, data.subarray(start, Math.min(data.length, start + chunk)));
    }
  }

  private send(position: number, piece: Buffer): void {
    this.unacknowledgedBytes += piece.length;
    const sent = this.connection
      .call<number>((cb) => this.connection.sftp.write(this.handle, piece, 0, piece.length, position, cb))
      .then(
        () => undefined,
        (error: unknown) => {
          this.writeFailure ??= errorFromStatus(error, this.path);
        },
      )
      .finally(() => {
        this.unacknowledgedBytes -= piece.length;
        this.inFlight.delete(sent);
      });
    this.inFlight.add(sent);
  }

  /** Waits until every write sent is acknowledged; throws the first that failed. */
  private async settleWrites(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    this.checkUsable();
  }

  private checkUsable(): void {
    if (this.closed) throw new InvalidArgument(this.path, { message: 'File handle is closed' });
    if (this.writeFailure) throw this.writeFailure;
  }

  async stat(): Promise<Stats> {
    await this.settleWrites();
    return statsFromWire(await this.request<WireStats>((cb) => this.connection.sftp.fstat(this.handle, cb)));
  }

  async setstat(attrs: SetAttributes): Promise<void> {
    await this.settleWrites();
    const current = needsCurrentStats(attrs) ? await this.stat() : undefined;
    await this.request((cb) => this.connection.sftp.fsetstat(this.handle, setAttributesToWire(attrs, current), cb));
  }

  /** copy-data: the whole of `source` into this file from offset 0, copied by the upstream itself. */
  async copyFrom(source: SFTPFileHandle): Promise<void> {
    await this.settleWrites();
    await this.request((cb) => this.connection.sftp.ext_copy_data(source.handle, 0, 0, this.handle, 0, cb));
  }

  /** Waits for the writes, then closes upstream; a failed write or close rejects here (after the handle is released). */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    this.closed = true;
    let closeError: FSError | undefined;
    if (!this.connection.lost) {
      await this.request((cb) => this.connection.sftp.close(this.handle, cb)).catch((error: FSError) => (closeError = error));
    }
    const failure = this.writeFailure ?? closeError ?? (this.flags.write ? this.connection.lost : undefined);
    if (failure) throw failure;
  }

  private async request<T = void>(operation: (callback: Callback<T>) => void): Promise<T> {
    try {
      return await this.connection.call<T>(operation);
    } catch (error) {
      throw errorFromStatus(error, this.path);
    }
  }
}

function checkRange(offset: number, length: number, path: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new InvalidArgument(path, { message: `Invalid offset or length (${offset}, ${length})` });
  }
}
