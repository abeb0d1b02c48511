import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startS3rver, type S3rverInstance } from '../test/helpers/s3rver.js';
import { freePort, spawnServer, waitForSshBanner } from './servers/process.js';
import type { BenchEnvironment, BenchServer } from './servers/types.js';
import { readListeningPort } from './servers/sftpExpose.js';
import { SERVER_NODE_FLAGS } from '../dist/cluster/serverNodeFlags.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./s3Server.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILT_CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** The S3 workload's pair: a local S3 server, and sftp-expose serving one of its buckets. */
export interface S3BenchServers {
  s3: S3rverInstance;
  sftpExpose: BenchServer;
  stop(): Promise<void>;
}

/**
 * Arguments of `node` for sftp-expose over the bucket: bench/s3Server.ts over
 * the built library, or the built CLI as a user runs it; both with the node
 * options the CLI's launcher gives (SERVER_NODE_FLAGS).
 */
function serverArgs(how: 'library' | 'cli', env: BenchEnvironment, endpoint: string, bucket: string): string[] {
  if (how === 'library') {
    return [...SERVER_NODE_FLAGS, '--import', 'tsx', SERVER_SCRIPT, '--host-key', env.hostKeyPath, '--authorized-keys', env.authorizedKeysPath, '--endpoint', endpoint, '--bucket', bucket];
  }
  return [
    ...SERVER_NODE_FLAGS, BUILT_CLI, 'serve', `s3://${bucket}`,
    '--s3-endpoint', endpoint, '--s3-force-path-style', '--s3-access-key-id', 'S3RVER', '--s3-secret-access-key', 'S3RVER',
    '--addr', '127.0.0.1:0', '--key', env.hostKeyPath, '--authorized-keys', env.authorizedKeysPath,
    // No access log: the library server has none either, and a line per transfer is not what is measured.
    '--no-access-log', '--log-format', 'json', '--log-level', 'info',
  ];
}

/**
 * Starts s3rver (the same helper, with the same workarounds, as the tests:
 * see test/helpers/s3rver.ts) and sftp-expose in front of its bucket
 * (bench/s3Server.ts over the built library, or the built CLI's `serve s3://`).
 * Both run as child processes: the S3 server's memory and CPU are not the
 * SFTP server's, and the SFTP server's memory can be read from /proc.
 */
export async function startS3BenchServers(env: BenchEnvironment, how: 'library' | 'cli', bucket = 'bench'): Promise<S3BenchServers> {
  const s3 = await startS3rver(bucket);
  let server: ReturnType<typeof spawnServer>;
  try {
    server = spawnServer(process.execPath, serverArgs(how, env, s3.endpoint, bucket), { cwd: REPO_ROOT });
  } catch (error) {
    await s3.stop();
    throw error;
  }
  let port: number;
  try {
    // bench/s3Server.ts prints `listening <port>` on stdout; the CLI logs `listening on <host>:<port>` on stderr.
    port = await readListeningPort(how === 'library' ? server.child.stdout! : server.child.stderr!, server.child, 30_000);
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


/**
 * `rclone serve sftp` over the same bucket (rclone's S3 backend, given as a
 * connection string; no config file, --vfs-cache-mode off as by default):
 * the other server that exposes S3 over SFTP, for comparison.
 */
export async function startRcloneOverS3(env: BenchEnvironment, s3: S3rverInstance, bucket = 'bench'): Promise<BenchServer> {
  const port = await freePort();
  const remote = `:s3,provider=Other,endpoint='${s3.endpoint}',access_key_id=S3RVER,secret_access_key=S3RVER,force_path_style=true,region=us-east-1:${bucket}`;
  // rclone's AWS SDK would try to load AWS_CA_BUNDLE (set on some machines) for this plain-HTTP endpoint and fail.
  const { AWS_CA_BUNDLE: _ignored, ...environment } = process.env;
  const server = spawnServer(
    'rclone',
    ['serve', 'sftp', remote, '--addr', `127.0.0.1:${port}`, '--authorized-keys', env.authorizedKeysPath, '--key', env.hostKeyPath, '--config', '/dev/null', '--cache-dir', join(env.workDir, 'rclone-cache-s3'), '--log-level', 'ERROR'],
    { env: environment },
  );
  try {
    await waitForSshBanner(port, server.child);
  } catch (error) {
    await server.stop();
    throw new Error(`rclone serve sftp over S3 did not start: ${(error as Error).message}\n${server.stderrTail()}`);
  }
  return { name: 'rclone', port, user: 'bench', pid: server.child.pid!, upload: { remoteDir: '.', storage: 's3' }, stop: () => server.stop() };
}
