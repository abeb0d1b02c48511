import type { HandleQueue } from './HandleQueue.js';
import { StatusCode } from './protocol/constants.js';
import type { OpenDirectory, OpenFile } from './SFTPServerInterface.js';
import { SFTPStatusError } from './translateErrors.js';

/** What a handle moved, for its `sftp-expose:handle:close` event (counted always: an addition is cheaper than a check). */
export interface HandleUsage {
  openedAt: number;
  bytesRead: number;
  bytesWritten: number;
  entries: number;
}

/** The usage counters of a handle opened at `openedAt`. */
export function freshUsage(openedAt: number): HandleUsage {
  return { openedAt, bytesRead: 0, bytesWritten: 0, entries: 0 };
}

export type HandleEntry = HandleUsage &
  ({ kind: 'file'; open: OpenFile; queue: HandleQueue } | { kind: 'directory'; dir: OpenDirectory; queue: HandleQueue });
export type FileEntry = Extract<HandleEntry, { kind: 'file' }>;
export type DirectoryEntry = Extract<HandleEntry, { kind: 'directory' }>;

/** Handles are 4-byte counters, never reused within a session, so a stale handle cannot reach a new file. */
const HANDLE_BYTES = 4;

/**
 * A session's open files and directories by handle, bounded. A slot is
 * reserved from the limit check until the handle is in the table: pipelined
 * OPENs would otherwise all pass a check of the table alone before the first
 * of them completes.
 */
export class HandleTable {
  private readonly entries = new Map<number, HandleEntry>();
  private nextId = 1;
  private reserved = 0;

  constructor(private readonly maxOpenHandles: number) {}

  /** Open handles plus slots reserved by opens still under way. */
  get busy(): number {
    return this.entries.size + this.reserved;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Runs `open` in a reserved slot (FAILURE naming the limit when none is
   * free) and moves the slot straight to the new entry, with no await in
   * between for another open to slip through. An entry no longer `wanted`
   * (the session ended meanwhile) is returned to the caller to release.
   */
  async open(open: () => Promise<HandleEntry>, wanted: () => boolean): Promise<{ handle: Buffer } | { unwanted: HandleEntry }> {
    if (this.busy >= this.maxOpenHandles) {
      throw new SFTPStatusError(StatusCode.FAILURE, `Too many open handles (limit ${this.maxOpenHandles})`);
    }
    this.reserved++;
    let entry: HandleEntry;
    try {
      entry = await open();
    } finally {
      this.reserved--;
    }
    return wanted() ? { handle: this.add(entry) } : { unwanted: entry };
  }

  private add(entry: HandleEntry): Buffer {
    const id = this.nextId++;
    this.entries.set(id, entry);
    const handle = Buffer.allocUnsafe(HANDLE_BYTES);
    handle.writeUInt32BE(id >>> 0, 0);
    return handle;
  }

  /** The entry behind a handle, or undefined (wrong length, never issued, closed). */
  find(handle: Buffer): HandleEntry | undefined {
    return handle.length === HANDLE_BYTES ? this.entries.get(handle.readUInt32BE(0)) : undefined;
  }

  get(handle: Buffer): HandleEntry {
    const entry = this.find(handle);
    if (!entry) throw new SFTPStatusError(StatusCode.FAILURE, 'Invalid handle');
    return entry;
  }

  file(handle: Buffer): FileEntry {
    const entry = this.get(handle);
    if (entry.kind !== 'file') throw new SFTPStatusError(StatusCode.FAILURE, 'Handle is a directory, not a file');
    return entry;
  }

  directory(handle: Buffer): DirectoryEntry {
    const entry = this.get(handle);
    if (entry.kind !== 'directory') throw new SFTPStatusError(StatusCode.FAILURE, 'Handle is a file, not a directory');
    return entry;
  }

  /** Takes a handle out of the table (its queue still finishes what was asked of it). */
  remove(handle: Buffer): HandleEntry {
    const entry = this.get(handle);
    this.entries.delete(handle.readUInt32BE(0));
    return entry;
  }

  /** Empties the table, returning what was open. */
  takeAll(): HandleEntry[] {
    const all = [...this.entries.values()];
    this.entries.clear();
    return all;
  }
}
