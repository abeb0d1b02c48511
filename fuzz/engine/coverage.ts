import { Session } from 'node:inspector';

/**
 * Coverage feedback from V8's own block coverage, read in-process through the
 * inspector: after each input, each block range V8 reports, with whether it
 * ran, is a "feature" (a block reported as not run matters too: it means the
 * code around it was reached). An input that shows a feature never seen
 * before joins the corpus. This is what makes the fuzzer coverage-guided
 * without a native libFuzzer. Hit counts are left out so that the features
 * of a batch of inputs are the union of theirs (see fuzzer.ts).
 */
export class BlockCoverage {
  private readonly session = new Session();
  private readonly seen = new Set<string>();

  /** @param scriptFilter which scripts count (by URL): the code under test, not the fuzzer. */
  constructor(private readonly scriptFilter: (url: string) => boolean) {}

  async start(): Promise<void> {
    this.session.connect();
    await this.post('Profiler.enable');
    // detailed: per block, not per function. Without call counts (ran or not) V8 stays fast.
    await this.post('Profiler.startPreciseCoverage', { callCount: false, detailed: true });
    await this.takeNew();
    this.seen.clear();
  }

  /** Number of distinct features seen so far. */
  get features(): number {
    return this.seen.size;
  }

  /**
   * Reads (and resets) the counts since the last call; returns how many
   * features were new, and remembers them unless `commit` is false.
   */
  async takeNew(commit = true): Promise<number> {
    const { result } = (await this.post('Profiler.takePreciseCoverage')) as CoverageResult;
    let fresh = 0;
    for (const script of result) {
      if (!this.scriptFilter(script.url)) continue;
      for (const fn of script.functions) {
        for (const range of fn.ranges) {
          const feature = `${script.scriptId}:${range.startOffset}:${range.endOffset}:${range.count > 0 ? 1 : 0}`;
          if (!this.seen.has(feature)) {
            if (commit) this.seen.add(feature);
            fresh++;
          }
        }
      }
    }
    return fresh;
  }

  stop(): void {
    this.session.disconnect();
  }

  private post(method: string, params: object = {}): Promise<unknown> {
    return new Promise((resolve, reject) => this.session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  }
}

interface CoverageResult {
  result: Array<{ scriptId: string; url: string; functions: Array<{ ranges: Array<{ startOffset: number; endOffset: number; count: number }> }> }>;
}
