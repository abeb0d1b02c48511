import { MemoryFS } from '../../src/backends/memory.js';
import type { FileHandle, OpenFlags, SetAttributes } from '../../src/fs/types.js';

/** A gate operations wait at until the test opens it. */
export class Gate {
  private opened = false;
  private waiters: Array<() => void> = [];

  wait(): Promise<void> {
    return this.opened ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  open(): void {
    this.opened = true;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

export interface InstrumentedFSOptions {
  /** Handles get an `abort` method (as an object store's upload handle has). */
  withAbort?: boolean;
}

/**
 * A real MemoryFS whose file handles count their calls and can be held: set
 * `readGate`/`writeGate` and reads/writes wait there before they run. For
 * tests of what a server does while the FS is slow, and of how it releases
 * handles.
 */
export class InstrumentedFS extends MemoryFS {
  readonly calls = { read: 0, write: 0, close: 0, abort: 0 };
  readGate?: Gate;
  writeGate?: Gate;

  constructor(private readonly instrumentOptions: InstrumentedFSOptions = {}) {
    super();
  }

  override async open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle> {
    const inner = await super.open(path, flags, attrs);
    const handle: FileHandle = {
      read: async (offset, length) => {
        this.calls.read++;
        await this.readGate?.wait();
        return inner.read(offset, length);
      },
      write: async (offset, data) => {
        this.calls.write++;
        await this.writeGate?.wait();
        return inner.write(offset, data);
      },
      stat: () => inner.stat(),
      setstat: (changes) => inner.setstat(changes),
      close: async () => {
        this.calls.close++;
        await inner.close();
      },
    };
    if (this.instrumentOptions.withAbort) {
      handle.abort = async () => {
        this.calls.abort++;
        await inner.close();
      };
    }
    return handle;
  }
}
