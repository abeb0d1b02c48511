import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under os.tmpdir(); `remove()` deletes it and everything in it. */
export function makeTempDir(prefix = 'sftp-expose-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A temp directory that lives as long as the test process (keys shared by
 * every test in a file). Removed when the process exits.
 */
export function makeProcessTempDir(prefix: string): string {
  const dir = makeTempDir(prefix);
  process.once('exit', dir.remove);
  return dir.path;
}
