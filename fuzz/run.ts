import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fuzz, type FuzzReport } from './engine/fuzzer.js';
import { targets, targetsByName } from './targets/index.js';

/**
 * npm run fuzz [-- --target NAME] [--seconds N] [--seed S] [--json]
 * npm run fuzz -- --target NAME --reproduce FILE
 *
 * Fuzzes each target for --seconds (default 600 split among the targets) and
 * exits 1 at the first finding, whose input is written to --artifacts
 * (default: a directory under the OS temp dir). --json prints one summary
 * line per target, for the CI test.
 */
const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    artifacts: { type: 'string' },
    reproduce: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const chosen = values.target === undefined ? targets : [targetsByName.get(values.target)];
if (chosen.some((target) => target === undefined)) {
  console.error(`unknown target ${values.target}; targets: ${[...targetsByName.keys()].join(', ')}`);
  process.exit(2);
}

if (values.reproduce !== undefined) {
  const input = readFileSync(values.reproduce);
  await chosen[0]!.run(input);
  console.log(`${chosen[0]!.name}: ${values.reproduce} runs without breaking an invariant`);
  process.exit(0);
}

const totalSeconds = Number(values.seconds ?? 600);
const seed = Number(values.seed ?? Date.now() % 0x1_0000_0000);

// One process per target: a second target in the process of a first one got a
// fraction of its block coverage (functions compiled before coverage restarted).
if (chosen.length > 1) {
  for (const target of chosen) {
    const args = [...process.execArgv, process.argv[1]!, '--target', target!.name, '--seconds', String(totalSeconds / chosen.length), '--seed', String(seed)];
    if (values.artifacts !== undefined) args.push('--artifacts', values.artifacts);
    if (values.json) args.push('--json');
    const { status } = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (status !== 0) process.exit(status ?? 1);
  }
  process.exit(0);
}

const artifacts = values.artifacts ?? join(tmpdir(), 'sftp-expose-fuzz');
let failed = false;
for (const target of chosen as NonNullable<(typeof chosen)[number]>[]) {
  const report: FuzzReport = await fuzz(target, { durationMs: (totalSeconds * 1000) / chosen.length, seed });
  const { finding, ...summary } = report;
  let artifact: string | undefined;
  if (finding) {
    mkdirSync(artifacts, { recursive: true });
    artifact = join(artifacts, `crash-${target.name}-${seed}-${report.runs}`);
    writeFileSync(artifact, finding.input);
    failed = true;
  }
  if (values.json) console.log(JSON.stringify({ ...summary, seed, artifact, error: finding?.error, input: finding?.input.toString('hex') }));
  else {
    console.log(`${target.name}: ${summary.runs} inputs in ${summary.seconds.toFixed(1)} s, corpus ${summary.corpus}, ${summary.features} coverage features (seed ${seed})`);
    if (finding) console.log(`  FINDING: ${finding.error}\n  input (${finding.input.length} bytes) written to ${artifact}\n  hex: ${finding.input.toString('hex').slice(0, 400)}`);
  }
  if (failed) break;
}
process.exit(failed ? 1 : 0);
