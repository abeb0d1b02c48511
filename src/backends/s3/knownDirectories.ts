/**
 * Directories recently seen to exist, so that uploading many files into one
 * directory costs one LIST for the parent check instead of one per file.
 * Entries expire after `ttlMs`: a directory removed by another client is
 * noticed within that time (until then a file may still be created in it,
 * which re-creates it implicitly, as S3 has no real directories anyway).
 * This filesystem's own rmdir and renames forget entries at once.
 */
export class KnownDirectories {
  private readonly seen = new Map<string, number>();

  constructor(private readonly ttlMs = 10_000, private readonly maxEntries = 10_000) {}

  has(dirKey: string): boolean {
    const expires = this.seen.get(dirKey);
    if (expires === undefined) return false;
    if (expires > Date.now()) return true;
    this.seen.delete(dirKey);
    return false;
  }

  add(dirKey: string): void {
    // Maps keep insertion order: the oldest entry goes first when full.
    if (this.seen.size >= this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
    this.seen.delete(dirKey);
    this.seen.set(dirKey, Date.now() + this.ttlMs);
  }

  /** Forgets `dirKey` and every directory below it. */
  forget(dirKey: string): void {
    for (const key of this.seen.keys()) if (key.startsWith(dirKey)) this.seen.delete(key);
  }
}
