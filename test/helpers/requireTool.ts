import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * What every require* helper does with something missing: outside CI, prints
 * the reason loudly and returns it (a skip reason for `it(..., { skip })`);
 * in CI (`CI` set), throws, so the run fails instead of passing with tests
 * silently skipped.
 */
export function missing(reason: string): string {
  if (process.env.CI) throw new Error(`${reason}, and CI must run every test`);
  process.stderr.write(`\n*** SKIPPING: ${reason} ***\n\n`);
  return reason;
}

/** Whether an external program (`sftp`, `ssh-keygen`...) is on PATH; if not, see {@link missing}. */
export function requireTool(name: string): string | false {
  const found = spawnSync('sh', ['-c', `command -v "$1"`, 'sh', name], { encoding: 'utf8' }).status === 0;
  return found ? false : missing(`${name} is not installed (install it to run these tests)`);
}

/** Whether a file a test needs (a header, a jar, a helper binary) is there; if not, see {@link missing}. */
export function requireFile(path: string, debianPackage: string): string | false {
  return existsSync(path) ? false : missing(`${path} is not installed (package ${debianPackage})`);
}

/** The system python that Debian's python3-* packages install into. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Whether the system python can import `module` (from Debian's `debianPackage`); if not, see {@link missing}. */
export function requirePythonModule(module: string, debianPackage: string): string | false {
  const probe = spawnSync(SYSTEM_PYTHON, ['-W', 'ignore', '-c', `import ${module}`], { encoding: 'utf8' });
  if (probe.status === 0) return false;
  return missing(`${SYSTEM_PYTHON} cannot import ${module} (install ${debianPackage}): ${probe.error?.message ?? probe.stderr.trim()}`);
}
