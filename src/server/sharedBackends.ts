import type { FS } from '../fs/FS.js';
import type { Logger } from '../logger.js';

interface Entry {
  key: string;
  fs: Promise<FS>;
  refs: number;
  /** No new session may take it; closed when the last one lets go. */
  retired: boolean;
  closed: boolean;
}

/** A backend lent to one session; `release` once the session is done with it. */
export interface BackendLease {
  fs: FS;
  release(): void;
}

/**
 * Backends shared by the sessions of one user, opened on first use and
 * counted: a backend that a reload or an expired proxy login retires stays
 * open until the last session using it ends, so nobody's transfer is cut.
 */
export class SharedBackends {
  private readonly live = new Map<string, Entry>();
  private readonly retired = new Set<Entry>();

  constructor(private readonly logger: Logger) {}

  /** The backend for `key`, opened with `open` if no live one exists. */
  async acquire(key: string, open: () => Promise<FS>): Promise<BackendLease> {
    let entry = this.live.get(key);
    if (!entry) {
      const created: Entry = { key, fs: open(), refs: 0, retired: false, closed: false };
      this.live.set(key, created);
      created.fs.catch(() => {
        if (this.live.get(key) === created) this.live.delete(key);
      });
      entry = created;
    }
    entry.refs++;
    let fs: FS;
    try {
      fs = await entry.fs;
    } catch (error) {
      entry.refs--;
      throw error;
    }
    const held = entry;
    let released = false;
    return {
      fs,
      release: () => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.retired && held.refs <= 0) void this.closeEntry(held);
      },
    };
  }

  /** Retires every live backend whose key is not kept (after a reload); idle ones close now. */
  retireAllBut(keep: (key: string) => boolean): void {
    for (const [key, entry] of this.live) if (!keep(key)) this.retire(entry);
  }

  /** Retires one backend (an expired proxy login). */
  retireKey(key: string): void {
    const entry = this.live.get(key);
    if (entry) this.retire(entry);
  }

  /** How many backends are open or opening, retired ones still in use included. */
  get size(): number {
    return this.live.size + this.retired.size;
  }

  /** Closes every backend, in use or not (the server is closing). */
  async closeAll(): Promise<void> {
    const all = [...this.live.values(), ...this.retired];
    this.live.clear();
    await Promise.all(all.map((entry) => this.closeEntry(entry)));
  }

  private retire(entry: Entry): void {
    entry.retired = true;
    this.live.delete(entry.key);
    this.retired.add(entry);
    if (entry.refs <= 0) void this.closeEntry(entry);
  }

  private async closeEntry(entry: Entry): Promise<void> {
    this.retired.delete(entry);
    if (entry.closed) return;
    entry.closed = true;
    try {
      await (await entry.fs).close();
      this.logger.debug('closed a backend', { backend: entry.key });
    } catch (error) {
      this.logger.warn('closing a backend failed', { backend: entry.key, error: (error as Error).message });
    }
  }
}
