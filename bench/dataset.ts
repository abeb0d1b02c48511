import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, mkdirSync, openSync, closeSync, writeSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions } from './options.js';

/** Paths (relative to the data directory, which is every server's start directory) of the served files. */
export const LAYOUT = {
  big: 'big.bin',
  tree: 'tree',
  list: 'list',
  concurrent: 'w6',
} as const;

/** Remote name of W6 client `i`'s file. */
export function concurrentFile(i: number): string {
  return `${LAYOUT.concurrent}/c${String(i).padStart(3, '0')}.bin`;
}

/** What the data set holds, with hashes to verify uploads against. */
export interface Dataset {
  bigSha256: string;
  /** sha256 of each tree file, by name. */
  treeSha256: Map<string, string>;
}

const CHUNK = 4 * 1024 * 1024;

/** Writes `size` random bytes to `path` and returns their sha256. Random, so no layer can compress or dedupe them. */
function writeRandomFile(path: string, size: number): string {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size));
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < size; ) {
      const part = chunk.subarray(0, Math.min(chunk.length, size - written));
      randomFillSync(part);
      hash.update(part);
      writeSync(fd, part);
      written += part.length;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Creates the served layout in `dataDir`, the same for every server. */
export function createDataset(dataDir: string, options: BenchOptions, needs: { big: boolean; tree: boolean; list: boolean; concurrent: boolean }): Dataset {
  const dataset: Dataset = { bigSha256: '', treeSha256: new Map() };
  if (needs.big) dataset.bigSha256 = writeRandomFile(join(dataDir, LAYOUT.big), options.size);
  if (needs.tree) {
    mkdirSync(join(dataDir, LAYOUT.tree));
    for (let i = 0; i < options.files; i++) {
      const name = `f${String(i).padStart(5, '0')}.dat`;
      dataset.treeSha256.set(name, writeRandomFile(join(dataDir, LAYOUT.tree, name), options.fileSize));
    }
  }
  if (needs.list) {
    mkdirSync(join(dataDir, LAYOUT.list));
    for (let i = 0; i < options.entries; i++) writeFileSync(join(dataDir, LAYOUT.list, `entry-${String(i).padStart(6, '0')}`), '');
  }
  if (needs.concurrent) {
    mkdirSync(join(dataDir, LAYOUT.concurrent));
    for (let i = 0; i < options.clients; i++) writeRandomFile(join(dataDir, concurrentFile(i)), options.clientSize);
  }
  return dataset;
}

/** sha256 of a file, streamed. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: CHUNK })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Names in `dir` whose content differs from (or is missing against) the expected hashes; extra names count too. */
export function treeMismatches(dir: string, expected: Map<string, string>): string[] {
  const found = new Set(readdirSync(dir));
  const bad: string[] = [];
  for (const [name, sha] of expected) {
    if (!found.has(name)) bad.push(`${name} (missing)`);
    else if (createHash('sha256').update(readFileSync(join(dir, name))).digest('hex') !== sha) bad.push(`${name} (content differs)`);
    found.delete(name);
  }
  for (const name of found) bad.push(`${name} (unexpected)`);
  return bad;
}
