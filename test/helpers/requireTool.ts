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

/** The system python that Debian's python3-* packages install into. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/**
 * Whether the system python can import `module` (from Debian's `debianPackage`),
 * with the same outcome as requireTool: a loud skip reason outside CI, a throw in CI.
 */
export function requirePythonModule(module: string, debianPackage: string): string | false {
  const probe = spawnSync(SYSTEM_PYTHON, ['-W', 'ignore', '-c', `import ${module}`], { encoding: 'utf8' });
  if (probe.status === 0) return false;
  const reason = `${SYSTEM_PYTHON} cannot import ${module} (install ${debianPackage}): ${probe.error?.message ?? probe.stderr.trim()}`;
  if (process.env.CI) throw new Error(`${reason}, and CI must run every test`);
  process.stderr.write(`\n*** SKIPPING: ${reason} ***\n\n`);
  return reason;
}
