import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { startS3rver, type S3rverInstance } from '../test/helpers/s3rver.js';
import { spawnServer } from './servers/process.js';
import type { BenchEnvironment, BenchServer } from './servers/types.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./s3Server.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The S3 workload's pair: a local S3 server, and sftp-expose serving one of its buckets. */
export interface S3BenchServers {
  s3: S3rverInstance;
  sftpExpose: BenchServer;
  stop(): Promise<void>;
}

/**
 * Starts s3rver (the same helper, with the same workarounds, as the tests:
 * see test/helpers/s3rver.ts) and bench/s3Server.ts in front of its bucket.
 * Both run as child processes: the S3 server's memory and CPU are not the
 * SFTP server's, and the SFTP server's memory can be read from /proc.
 */
export async function startS3BenchServers(env: BenchEnvironment, bucket = 'bench'): Promise<S3BenchServers> {
  const s3 = await startS3rver(bucket);
  const server = spawnServer(
    process.execPath,
    ['--import', 'tsx', SERVER_SCRIPT, '--host-key', env.hostKeyPath, '--authorized-keys', env.authorizedKeysPath, '--endpoint', s3.endpoint, '--bucket', bucket],
    { cwd: REPO_ROOT },
  );
  let port: number;
  try {
    port = await listeningPort(server.child.stdout!, server.child, 30_000);
  } catch (error) {
    await server.stop();
    await s3.stop();
    throw new Error(`sftp-expose over S3 did not start: ${(error as Error).message}\n${server.stderrTail()}`);
  }
  const sftpExpose: BenchServer = {
    name: 'sftp-expose',
    port,
    user: 'bench',
    pid: server.child.pid!,
    upload: { remoteDir: '.', storage: 's3' },
    stop: () => server.stop(),
  };
  return {
    s3,
    sftpExpose,
    async stop() {
      await Promise.allSettled([server.stop()]);
      await s3.stop();
    },
  };
}

/** Resolves with the port of the first `listening <port>` line the server prints. */
function listeningPort(stdout: NodeJS.ReadableStream, child: { once(event: 'exit', listener: (code: number | null) => void): unknown }, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(() => reject(new Error(`no "listening" line within ${timeoutMs} ms`)), timeoutMs);
    lines.on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line);
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
