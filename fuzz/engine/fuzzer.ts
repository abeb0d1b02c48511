import type { FuzzTarget } from '../targets/types.js';
import { BlockCoverage } from './coverage.js';
import { mutate } from './mutate.js';
import { Random } from './random.js';

export interface FuzzOptions {
  /** Stop after this long (ms). */
  durationMs: number;
  /** Stop after this many inputs (default: no limit). */
  maxRuns?: number;
  seed: number;
}

/** An input that broke an invariant, with what broke. */
export interface Finding {
  input: Buffer;
  error: string;
}

export interface FuzzReport {
  target: string;
  runs: number;
  corpus: number;
  features: number;
  seconds: number;
  finding?: Finding;
}

/**
 * Reading V8's coverage costs about 2 ms, far more than most inputs, so it is
 * read once per batch; only a batch that shows something new is run again
 * input by input to find which inputs to keep. Batches grow while nothing new
 * turns up (cheap reads) and shrink when something does (cheap replays).
 */
const MIN_BATCH = 8;
const MAX_BATCH = 512;
const LIBRARY_SOURCE = /\/src\/[^?]*\.ts/;

/**
 * The fuzz loop: run the seeds, then mutate corpus entries; keep a mutant when
 * it shows block coverage never seen before; stop at the first input that
 * breaks an invariant. Errors that escape the target (uncaught exceptions,
 * unhandled rejections) are findings too, charged to the input being run.
 */
export async function fuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const coverage = new BlockCoverage((url) => (target.coverageScripts ?? LIBRARY_SOURCE).test(url));
  const random = new Random(options.seed);
  const corpus: Buffer[] = [];
  let escaped: unknown;
  const onEscape = (error: unknown) => {
    escaped ??= error;
  };
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  await coverage.start();
  const started = Date.now();
  let runs = 0;
  let finding: Finding | undefined;

  const runOne = async (input: Buffer): Promise<void> => {
    runs++;
    try {
      await target.run(input);
    } catch (error) {
      finding = { input, error: describe(error) };
    }
    // Lets a rejection or throw scheduled by this input surface before the next one starts.
    await new Promise((resolve) => setImmediate(resolve));
    if (escaped !== undefined && !finding) finding = { input, error: `escaped the target: ${describe(escaped)}` };
  };
  const keepNew = async (inputs: Buffer[]): Promise<boolean> => {
    if ((await coverage.takeNew(false)) === 0) return false;
    for (const input of inputs) {
      await runOne(input);
      if (finding) return;
      if ((await coverage.takeNew()) > 0) corpus.push(input);
    }
    return true;
  };

  try {
    for (const seed of target.seeds()) {
      const input = seed.subarray(0, target.shape.maxLength);
      await runOne(input);
      await coverage.takeNew();
      corpus.push(input);
      if (finding) break;
    }
    let batchSize = MIN_BATCH;
    while (!finding && Date.now() - started < options.durationMs && runs < (options.maxRuns ?? Infinity)) {
      const batch = Array.from({ length: batchSize }, () => mutate(pickParent(corpus, random), random.pick(corpus), target.shape, random));
      for (const input of batch) {
        await runOne(input);
        if (finding) break;
      }
      if (finding) break;
      batchSize = (await keepNew(batch)) ? MIN_BATCH : Math.min(MAX_BATCH, batchSize * 2);
    }
  } finally {
    coverage.stop();
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  }
  return { target: target.name, runs, corpus: corpus.length, features: coverage.features, seconds: (Date.now() - started) / 1000, finding };
}

/** Half the time one of the newest entries: what just opened new code is the likeliest way further in. */
function pickParent(corpus: Buffer[], random: Random): Buffer {
  return random.chance(0.5) ? corpus[corpus.length - 1 - random.below(Math.min(4, corpus.length))]! : random.pick(corpus);
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
