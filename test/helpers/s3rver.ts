import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/backends/s3/client.js';
import { makeTempDir } from './tempDir.js';
import { TEST_TLS_FILES } from './testTls.js';

/** s3rver accepts any key pair; these are what the tests sign with. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3rverInstance {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** A bucket that exists from the start. */
  bucket: string;
  /** The s3rver process (to measure, or to kill as a crashing server would die). */
  process: ChildProcess;
  /** A client for checking objects directly, set up as s3rver needs. */
  client: S3Client;
  /** Connection options for an S3FS on this server (with TLS, the CA to trust). */
  connection: { endpoint: string; forcePathStyle: true; region: string; credentials: typeof S3RVER_CREDENTIALS; caCertificates?: string };
  /** Kills the server now (SIGKILL), as a crash would; stop() still cleans up. */
  kill(): Promise<void>;
  /** Stops the server and deletes its data. */
  stop(): Promise<void>;
}

// Runs in the child: s3rver is CommonJS, so the child is too. It needs Node's
// --openssl-legacy-provider: its ListObjectsV2 continuation tokens are DES-encrypted,
// which OpenSSL 3 refuses otherwise (every truncated listing would fail with 500).
const CHILD_SCRIPT = `
const S3rver = require('s3rver');
const FilesystemStore = require('s3rver/lib/stores/filesystem');
// s3rver keeps each key as a file named after it plus a suffix, so a 255-byte name (legal
// in S3, and in the conformance suite) exceeds the disk's NAME_MAX and kills it. Long
// segments are stored under a hash instead; the names S3 clients see are unchanged.
const { createHash } = require('crypto');
const longNames = new Map();
const shorten = (segment) => {
  if (Buffer.byteLength(segment) <= 200) return segment;
  const stored = '~L' + createHash('sha256').update(segment).digest('hex');
  longNames.set(stored, segment);
  return stored;
};
FilesystemStore.encodeKeyPath = (key) => key.split('/').map(shorten).join('/');
FilesystemStore.decodeKeyPath = (keyPath) => keyPath.split('/').map((segment) => longNames.get(segment) ?? segment).join('/');
const [directory, bucket, keyFile, certFile] = process.argv.slice(1);
const tls = keyFile ? { key: require('fs').readFileSync(keyFile), cert: require('fs').readFileSync(certFile) } : {};
new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }], ...tls })
  .run()
  .then((address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'))
  .catch((error) => { process.stderr.write(String(error && error.stack || error) + '\\n'); process.exit(1); });
`;

/**
 * Starts a real s3rver (an S3 server in Node, from npm) on 127.0.0.1, a free
 * port, storing in a fresh temp dir, in a child process: its memory is then
 * not the SFTP server's, and a test can kill it mid-request. With `tls`, it
 * speaks HTTPS with a test certificate that `connection` and `client` trust.
 */
export async function startS3rver(bucket = 'test-bucket', options: { tls?: boolean } = {}): Promise<S3rverInstance> {
  const dir = makeTempDir('sftp-expose-s3rver-');
  const tlsArgs = options.tls ? [TEST_TLS_FILES.key, TEST_TLS_FILES.cert] : [];
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD_SCRIPT, dir.path, bucket, ...tlsArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = once(child, 'exit');
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('s3rver did not start within 15 s')), 15_000);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`s3rver exited with ${code}: ${stderr}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    dir.remove();
    throw error;
  }
  const endpoint = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const caCertificates = options.tls ? readFileSync(TEST_TLS_FILES.cert, 'utf8') : undefined;
  const connection = { endpoint, forcePathStyle: true as const, region: 'us-east-1', credentials: S3RVER_CREDENTIALS, ...(caCertificates && { caCertificates }) };
  const client = createS3Client({ ...connection, maxAttempts: 2, requestTimeoutMs: 30_000 });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return {
    endpoint,
    bucket,
    process: child,
    client,
    connection,
    kill,
    async stop() {
      client.destroy();
      await kill();
      dir.remove();
    },
  };
}
