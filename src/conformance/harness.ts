import { it, type TestContext } from 'node:test';
import type { FS } from '../fs/FS.js';
import type { FileHandle, OpenFlags } from '../fs/types.js';

/**
 * What a backend can do. Every feature defaults to `true`; a backend that lacks
 * one passes `false`, and the tests that need it are skipped with a reason.
 */
export interface ConformanceFeatures {
  /** `symlink`, `readlink`, and symlinks followed in path walks. */
  symlinks: boolean;
  /** Permission bits are stored and reported back as set. */
  permissions: boolean;
  /** uid/gid are stored and reported back as set. */
  ownership: boolean;
  /** Writes may land anywhere (holes, far past the end), not only in a small reorder window. */
  randomAccessWrites: boolean;
  /** atime/mtime are stored, settable and updated by writes. */
  times: boolean;
  /** `link` creates hard links sharing content. */
  hardlinks: boolean;
}

/** A fresh, empty filesystem for one test, and how to dispose of it afterwards. */
export interface ConformanceTarget {
  fs: FS;
  cleanup?: () => Promise<void>;
}

/** Makes a fresh, empty filesystem; called once per test. */
export type ConformanceFactory = () => Promise<ConformanceTarget>;

/**
 * One conformance test: gets a fresh FS, the declared features, and the
 * node:test context (to skip when an optional capability is absent).
 */
export type ConformanceTest = (fs: FS, features: ConformanceFeatures, t: TestContext) => Promise<void>;

/** Registers tests against a factory, so topic files need not repeat the setup. */
export interface Specifier {
  readonly features: ConformanceFeatures;
  /** A test that every backend must pass. */
  it(title: string, test: ConformanceTest): void;
  /** A test that runs only when `feature` is enabled; otherwise skipped with a reason. */
  requires(feature: keyof ConformanceFeatures, title: string, test: ConformanceTest): void;
  /** A test that runs only when `feature` is disabled (it checks the refusal). */
  lacks(feature: keyof ConformanceFeatures, title: string, test: ConformanceTest): void;
}

/** Binds the node:test registration functions to one factory and feature set. */
export function makeSpecifier(factory: ConformanceFactory, features: ConformanceFeatures): Specifier {
  // A fresh FS per test keeps tests independent: no ordering, no leftovers.
  const run = (test: ConformanceTest) => async (t: TestContext) => {
    const target = await factory();
    try {
      await test(target.fs, features, t);
    } finally {
      await target.cleanup?.();
    }
  };
  return {
    features,
    it(title, test) {
      it(title, run(test));
    },
    requires(feature, title, test) {
      if (features[feature]) it(title, run(test));
      else it(title, { skip: `backend declares no support for ${feature}` }, () => {});
    },
    lacks(feature, title, test) {
      if (!features[feature]) it(title, run(test));
      else it(title, { skip: `backend supports ${feature}` }, () => {});
    },
  };
}

/** Open flags by name, so tests state exactly which bits they set. */
export function flags(...names: (keyof OpenFlags)[]): OpenFlags {
  const result: OpenFlags = { read: false, write: false, append: false, create: false, truncate: false, exclusive: false };
  for (const name of names) result[name] = true;
  return result;
}

/** Deterministic, non-repeating-looking bytes, so misplaced chunks are caught. */
export function pattern(length: number, seed = 1): Buffer {
  const buffer = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    buffer[i] = state >>> 24;
  }
  return buffer;
}

/** Reads a handle from `offset` to end of file, in chunks, as an SFTP client would. */
export async function readToEnd(handle: FileHandle, offset = 0, chunkSize = 32 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = await handle.read(offset, chunkSize);
    if (chunk.length === 0) return Buffer.concat(chunks);
    chunks.push(chunk);
    offset += chunk.length;
  }
}

/** Current time in the seconds-since-epoch unit `Stats` uses. */
export function nowSeconds(): number {
  return Date.now() / 1000;
}
