import type { DirEntry } from '../../fs/types.js';
import { statsOf, type AttributeDefaults } from './attributes.js';
import type { Bucket } from './bucket.js';
import { entryName } from './keys.js';

/** HEADs in flight while a page's entries get their stored attributes. */
const HEAD_CONCURRENCY = 16;

export interface ListingSettings {
  useServerModtime: boolean;
  defaults: AttributeDefaults;
}

/**
 * The entries of one directory, a ListObjectsV2 page (up to 1,000 keys) at a
 * time: sub-prefixes are directories, objects are files, the directory's own
 * marker is skipped. Unless `useServerModtime`, each entry's stored modes and
 * times are fetched by HEAD (16 at once), so listings agree with stat.
 */
export async function* listDirectory(bucket: Bucket, dirKey: string, path: string, settings: ListingSettings): AsyncGenerator<DirEntry> {
  for await (const page of bucket.list(dirKey, path, '/')) {
    const files = page.objects.flatMap((object) => {
      const name = entryName(dirKey, object.key);
      return name === undefined || object.key.endsWith('/') ? [] : [{ name, key: object.key, object }];
    });
    const fileNames = new Set(files.map((file) => file.name));
    // A key `a` and keys under `a/` may both exist; the file shadows the directory, as stat says.
    const directories = page.prefixes.flatMap((prefix) => {
      const name = entryName(dirKey, prefix);
      return name === undefined || fileNames.has(name) ? [] : [{ name, key: prefix }];
    });
    const jobs: (() => Promise<DirEntry | undefined>)[] = [
      ...directories.map(({ name, key }) => async () => ({
        name,
        stats: statsOf('directory', settings.useServerModtime ? undefined : await bucket.head(key, path), settings.defaults),
      })),
      ...files.map(({ name, key, object }) => async () => {
        if (settings.useServerModtime) return { name, stats: statsOf('file', object, settings.defaults) };
        const head = await bucket.head(key, path);
        // Deleted since the listing: leave it out, as a disk listing racing an unlink would.
        return head ? { name, stats: statsOf('file', head, settings.defaults) } : undefined;
      }),
    ];
    for (const entry of await runBounded(jobs, HEAD_CONCURRENCY)) if (entry) yield entry;
  }
}

/** Runs jobs at most `limit` at a time, results in job order. */
async function runBounded<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, jobs.length) }, async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]!();
    }
  });
  await Promise.all(workers);
  return results;
}
