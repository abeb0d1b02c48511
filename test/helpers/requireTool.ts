import { spawnSync } from 'node:child_process';

/**
 * Whether an external program (`sftp`, `ssh-keygen`...) is on PATH. Outside CI
 * a missing tool returns a skip reason, printed loudly, for `it(..., { skip })`;
 * in CI (`CI` set) a missing tool throws, so the run fails instead of passing
 * with tests silently skipped.
 */
export function requireTool(name: string): string | false {
  const found = spawnSync('sh', ['-c', `command -v "$1"`, 'sh', name], { encoding: 'utf8' }).status === 0;
  if (found) return false;
  const reason = `${name} is not installed`;
  if (process.env.CI) throw new Error(`${reason}, and CI must run every test`);
  process.stderr.write(`\n*** SKIPPING: ${reason} (install it to run these tests) ***\n\n`);
  return reason;
}
