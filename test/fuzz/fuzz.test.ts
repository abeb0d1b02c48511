import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { targetsByName } from '../../fuzz/targets/index.js';

/**
 * The fuzzer's bounded CI run: each target for a few seconds in its own
 * process (so an uncaught error or a hang is the fuzzer's to catch, not the
 * test runner's). `npm run fuzz` is the long run. A finding fails the test
 * with the seed and the input, to replay with
 * `npm run fuzz -- --target NAME --reproduce FILE`.
 */

const RUNNER = fileURLToPath(new URL('../../fuzz/run.ts', import.meta.url));
const SECONDS: Record<string, number> = { decoder: 5, framer: 4, session: 10 };
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 0x1_0000_0000);
const artifacts = mkdtempSync(join(tmpdir(), 'sftp-expose-fuzz-'));
after(() => rmSync(artifacts, { recursive: true, force: true }));

interface Summary {
  target: string;
  runs: number;
  corpus: number;
  features: number;
  seed: number;
  error?: string;
  input?: string;
}

/** Runs the fuzzer on one target; resolves with its exit code and JSON summary. Killed past its bound. */
function runFuzzer(target: string, seconds: number, runSeed: number): Promise<{ code: number | null; summary: Summary }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, '--target', target, '--seconds', String(seconds), '--seed', String(runSeed), '--artifacts', artifacts, '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve({ code, summary: JSON.parse(line) as Summary });
      } catch {
        reject(new Error(`fuzzer for ${target} exited ${code} without a summary; output:\n${stdout}`));
      }
    });
  });
}

describe('fuzzing (bounded CI run)', { concurrency: false }, () => {
  for (const [name, seconds] of Object.entries(SECONDS)) {
    it(`${name}: no input breaks an invariant in ${seconds} s (seed ${seed})`, async () => {
      const seeds = targetsByName.get(name)!.seeds().length;
      const { code, summary } = await runFuzzer(name, seconds, seed);
      assert.equal(summary.error, undefined, `finding with seed ${seed}, input hex ${summary.input}`);
      assert.equal(code, 0);
      assert.ok(summary.runs > seeds * 10, `only ${summary.runs} inputs ran`);
      assert.ok(summary.corpus > seeds, `coverage feedback kept no new input (corpus ${summary.corpus}, seeds ${seeds})`);
    });
  }

  it('finds the planted bug behind three byte comparisons, guided by coverage', async () => {
    const { code, summary } = await runFuzzer('planted', 20, 1);
    assert.equal(code, 1, 'a finding makes the fuzzer exit 1');
    assert.match(summary.error ?? '', /planted bug reached/);
    assert.ok(Buffer.from(summary.input!, 'hex').subarray(0, 3).equals(Buffer.from('SFT')));
    assert.ok(summary.corpus >= 3, 'the first two bytes were each kept for the new block they opened');
  });
});
