import type { Bucket } from './bucket.js';

/** Server-side copies running at once while moving a directory. */
const COPY_CONCURRENCY = 8;

/**
 * Moves every key under `fromPrefix` to the same name under `toPrefix`. S3
 * has no rename, so this is a copy of each object then a delete of each:
 * not atomic. All copies finish before the first delete, so a failure part
 * way leaves the source whole (and some copies at the target), never a
 * half-moved tree with objects only in neither place. Listing is page by
 * page, so a directory of any size moves in bounded memory.
 */
export async function moveTree(bucket: Bucket, fromPrefix: string, toPrefix: string, path: string): Promise<void> {
  for await (const page of bucket.list(fromPrefix, path)) {
    const objects = [...page.objects];
    const workers = Array.from({ length: COPY_CONCURRENCY }, async () => {
      for (let object = objects.shift(); object; object = objects.shift()) {
        await bucket.copy(object.key, toPrefix + object.key.slice(fromPrefix.length), object.size, path);
      }
    });
    await Promise.all(workers);
  }
  for await (const page of bucket.list(fromPrefix, path)) {
    await bucket.deleteMany(page.objects.map((object) => object.key), path);
  }
}
