import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { BenchEnvironment, BenchServer } from './types.js';
import { freePort, spawnServer, waitForSshBanner } from './process.js';

/** Why rclone cannot be benchmarked here, or undefined when it can. */
export function rcloneMissing(): string | undefined {
  return spawnSync('rclone', ['version'], { stdio: 'ignore' }).status === 0 ? undefined : 'rclone is not installed (apt-get install rclone)';
}

/**
 * `rclone serve sftp DIR` with its defaults (--vfs-cache-mode off), isolated
 * from any user configuration: --config /dev/null and a private cache dir.
 */
export async function startRclone(env: BenchEnvironment, servedDir: string, label: string): Promise<BenchServer> {
  const port = await freePort();
  const server = spawnServer('rclone', [
    'serve', 'sftp', servedDir,
    '--addr', `127.0.0.1:${port}`,
    '--authorized-keys', env.authorizedKeysPath,
    '--key', env.hostKeyPath,
    '--config', '/dev/null',
    '--cache-dir', join(env.workDir, `rclone-cache-${label}`),
    '--log-level', 'ERROR',
  ]);
  try {
    await waitForSshBanner(port, server.child);
  } catch (error) {
    await server.stop();
    throw new Error(`rclone serve sftp did not start: ${(error as Error).message}\n${server.stderrTail()}`);
  }
  return {
    name: 'rclone',
    port,
    user: 'bench',
    pid: server.child.pid!,
    upload: { remoteDir: 'up-rclone', hostDir: join(servedDir, 'up-rclone'), storage: 'disk' },
    stop: () => server.stop(),
  };
}

/** W8 for rclone: a second rclone serving a directory on tmpfs (/dev/shm). */
export async function startRcloneTmpfs(env: BenchEnvironment, tmpfsDir: string): Promise<BenchServer> {
  const server = await startRclone(env, tmpfsDir, 'tmpfs');
  return { ...server, upload: { remoteDir: '.', hostDir: tmpfsDir, storage: 'tmpfs' } };
}
