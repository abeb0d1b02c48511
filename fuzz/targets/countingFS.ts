import { MemoryFS } from '../../src/backends/memory.js';
import type { FileHandle, OpenFlags, SetAttributes } from '../../src/fs/types.js';

/**
 * A real MemoryFS that counts the file handles it gave out and how many were
 * released (closed or aborted), so a fuzz run can check that a session gives
 * back everything it opened. Small capacity: a WRITE at a huge offset must
 * fail as a full disk does, not take the fuzzer's memory.
 */
export class CountingMemoryFS extends MemoryFS {
  opened = 0;
  released = 0;
  /** Called after every open and release, to check limits as they change. */
  onChange?: () => void;

  constructor(private readonly withAbort: boolean) {
    super({ capacity: 1024 * 1024 });
  }

  /** Handles opened and not yet released. Negative means something was released twice. */
  get stillOpen(): number {
    return this.opened - this.released;
  }

  override async open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle> {
    const inner = await super.open(path, flags, attrs);
    this.opened++;
    this.onChange?.();
    const release = async (how: () => Promise<void>) => {
      // Counted every time, so a double release shows as stillOpen < 0.
      this.released++;
      this.onChange?.();
      await how();
    };
    const handle: FileHandle = {
      read: (offset, length) => inner.read(offset, length),
      write: (offset, data) => inner.write(offset, data),
      stat: () => inner.stat(),
      setstat: (changes) => inner.setstat(changes),
      close: () => release(() => inner.close()),
    };
    if (inner.fsync) handle.fsync = () => inner.fsync!();
    if (this.withAbort) handle.abort = () => release(() => inner.close());
    return handle;
  }
}
