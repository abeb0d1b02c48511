import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { BenchEnvironment, BenchServer } from './types.js';
import { spawnServer } from './process.js';
import { SERVER_NODE_FLAGS } from '../../dist/cluster/serverNodeFlags.js';

const SERVER_SCRIPT = fileURLToPath(new URL('../sftpExposeServer.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * sftp-expose in a child process (bench/sftpExposeServer.ts over the built
 * library in dist/, as users run it), over LocalFS on the data directory, or
 * over a fresh MemoryFS with `memory`. Not the sources through tsx: its
 * transform names every function it creates (esbuild's keepNames, a
 * defineProperty per closure), which cost some 20% of the server's CPU on
 * small files. With the node options the CLI runs with (SERVER_NODE_FLAGS).
 */
export async function startSftpExpose(env: BenchEnvironment, workers: number, memory = false): Promise<BenchServer> {
  const backend = memory ? ['--memory'] : ['--root', env.dataDir];
  const server = spawnServer(
    process.execPath,
    [...SERVER_NODE_FLAGS, '--import', 'tsx', SERVER_SCRIPT, ...backend, '--host-key', env.hostKeyPath, '--authorized-keys', env.authorizedKeysPath, '--workers', String(workers)],
    { cwd: REPO_ROOT },
  );
  createInterface({ input: server.child.stderr! }).on('line', (line) => {
    if (line.startsWith('sftp-expose: synchronous')) process.stderr.write(`${line}\n`);
  });
  let port: number;
  try {
    port = await readListeningPort(server.child.stdout!, server.child, 30_000);
  } catch (error) {
    await server.stop();
    throw new Error(`sftp-expose did not start: ${(error as Error).message}\n${server.stderrTail()}`);
  }
  const upload = memory
    ? { remoteDir: 'up-memory', storage: 'memory' }
    : { remoteDir: 'up-sftp-expose', hostDir: join(env.dataDir, 'up-sftp-expose'), storage: 'disk' };
  return { name: 'sftp-expose', port, user: 'bench', pid: server.child.pid!, upload, stop: () => server.stop() };
}

/**
 * The port from a bench server's `listening PORT` line (or the CLI's JSON
 * `listening on host:PORT` log line); rejects when the process exits first.
 */
export function readListeningPort(stdout: NodeJS.ReadableStream, child: { once(event: 'exit', listener: (code: number | null) => void): unknown }, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(() => reject(new Error(`no "listening" line within ${timeoutMs} ms`)), timeoutMs);
    lines.on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line) ?? /"msg":"listening on [^"]*:(\d+)"/.exec(line);
      if (!match) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with code ${code}`));
    });
  });
}
