import type { DirectoryEntry } from './HandleTable.js';
import type { NameEntry } from './protocol/messages.js';

/** READDIR batches a session holds read ahead at most: one for each of a few directories listed at once. */
const MAX_HELD = 4;

/**
 * Reads a directory's next READDIR batch while the client works on the one
 * just answered. Clients ask for one batch at a time (OpenSSH's waits for each
 * reply), so otherwise every entry's lstat waits for the client and the
 * client for the lstats; this way the two overlap, which counts on a link
 * with latency or over a backend whose listing pages are network calls.
 *
 * A batch read ahead is read in the handle's queue like any other, and a
 * failure reaches the READDIR that takes it, as it would have without
 * reading ahead. A session holds at most MAX_HELD batches, so a client
 * opening many directories cannot make it hold more.
 */
export class DirectoryReadAhead {
  private readonly held = new Map<DirectoryEntry, Promise<NameEntry[]>>();

  constructor(
    /** Reads a directory's next batch, in its handle's order. */
    private readonly readBatch: (entry: DirectoryEntry) => Promise<NameEntry[]>,
    /** Whether reading ahead is still wanted: the session is open and `handle` still names `entry`. */
    private readonly stillOpen: (handle: Buffer, entry: DirectoryEntry) => boolean,
  ) {}

  /**
   * The batch a READDIR answers: the one read ahead, or one read now. Called
   * when the request arrives, outside the handle's queue: the batch read
   * ahead is a job in that queue, and a job waiting for it would wait behind
   * itself when queued first.
   */
  next(entry: DirectoryEntry): Promise<NameEntry[]> {
    const ahead = this.held.get(entry);
    this.held.delete(entry);
    return ahead ?? this.readBatch(entry);
  }

  /**
   * Starts reading the batch after the one a READDIR is answering, once that
   * reply is written: an immediate queued from an immediate runs after the
   * ReplyBatcher's flush.
   */
  start(handle: Buffer, entry: DirectoryEntry): void {
    const key = Buffer.from(handle); // the request's bytes may be reused by then
    setImmediate(() =>
      setImmediate(() => {
        if (this.held.has(entry) || this.held.size >= MAX_HELD || !this.stillOpen(key, entry)) return;
        const batch = this.readBatch(entry);
        batch.catch(() => {}); // handled by the READDIR that takes it
        this.held.set(entry, batch);
      }),
    );
  }

  /** The directory is closed: a batch read ahead for it no longer counts. */
  forget(entry: DirectoryEntry): void {
    this.held.delete(entry);
  }
}
