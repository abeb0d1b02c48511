import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3FS } from '../../src/backends/s3/S3FS.js';
import type { Session } from '../../src/sftp/Session.js';
import { AuthResult, isKeyAllowed, type PublicKey } from '../../src/ssh/auth.js';
import { BaseSFTPServer } from '../../src/ssh/BaseSFTPServer.js';
import { clientKey } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { startS3rver, type S3rverInstance } from '../helpers/s3rver.js';
import { runSftpBatch, type SftpBatchResult } from '../helpers/sftpBatch.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { waitFor } from '../helpers/waitFor.js';
import { runCLI, startServe, type RunningCLI } from '../cli/cliProcess.js';

const skip = requireTool('sftp') || requireTool('ssh-keygen');
const MiB = 1024 * 1024;

function assertSucceeded(result: SftpBatchResult): void {
  assert.equal(result.code, 0, `sftp failed (${result.timedOut ? 'timed out' : `code ${result.code}`}): ${result.stderr}`);
}

/** Writes `size` pseudo-random bytes to `path` in 1 MiB steps (never the whole file in memory); returns their SHA-256. */
async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  let seed = 12345;
  for (let written = 0; written < size; written += MiB) {
    const chunk = Buffer.allocUnsafe(Math.min(MiB, size - written));
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0), i);
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

async function sha256OfStream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function objectSha256(client: S3Client, bucket: string, key: string): Promise<string> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return sha256OfStream(response.Body as Readable);
}

async function objectExists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}

/** Counts the S3 requests of each kind a client sends (observing only: they still go to the server). */
function countRequests(client: S3Client): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      const result = await next(args);
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return result;
    },
    { step: 'initialize', name: 'countRequestsForTest' },
  );
  return counts;
}

/** OpenSSH sftp in batch mode, started (not awaited), so a test can kill it mid-transfer. */
function startSftp(port: number, keyPath: string, commands: string[], cwd: string) {
  const child = spawn(
    'sftp',
    ['-b', '-', '-F', '/dev/null', '-P', String(port), '-i', keyPath, '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no',
      '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', 'tester@127.0.0.1'],
    { cwd, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdout.resume();
  child.stdin.end(commands.join('\n') + '\n');
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, stderr: () => stderr };
}

describe('S3FS through sftp-expose with OpenSSH sftp', { skip }, () => {
  let s3: S3rverInstance;
  let fs: S3FS;
  let server: TestServer;
  let requests: Map<string, number>;
  let local: ReturnType<typeof makeTempDir>;
  const sessions: Session[] = [];
  const batch = (commands: string[]) => runSftpBatch(server.port, server.clientKeyPath, commands, { cwd: local.path, timeoutMs: 180_000 });

  before(async () => {
    local = makeTempDir('sftp-expose-s3-client-');
    s3 = await startS3rver();
    fs = new S3FS({ bucket: s3.bucket, prefix: 'e2e', ...s3.connection });
    requests = countRequests(fs.bucket.client);
    server = await startTestServer({ fs });
    server.server.on('session', (session: Session) => sessions.push(session));
  });
  after(async () => {
    await server?.close();
    await s3?.stop();
    local?.remove();
  });

  it('puts and gets a 100 MiB file; the object in the bucket holds exactly those bytes', async () => {
    const digest = await writeRandomFile(join(local.path, 'big.bin'), 100 * MiB);
    const started = process.hrtime.bigint();
    assertSucceeded(await batch(['put big.bin /big.bin']));
    const putSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    assert.equal(await objectSha256(s3.client, s3.bucket, 'e2e/big.bin'), digest, 'the object read with the SDK');
    assert.ok((requests.get('UploadPartCommand') ?? 0) >= 12, 'a 100 MiB put is a multipart upload of 8 MiB parts');
    const gets = requests.get('GetObjectCommand') ?? 0;
    const getStarted = process.hrtime.bigint();
    assertSucceeded(await batch(['get /big.bin big-back.bin']));
    const getSeconds = Number(process.hrtime.bigint() - getStarted) / 1e9;
    assert.equal(await sha256OfStream(createReadStream(join(local.path, 'big-back.bin'))), digest, 'get returned what was put');
    // OpenSSH keeps 64 READs of 255 KiB (16 MiB) in flight, more than S3FS reads ahead: those must still
    // count as sequential, not as seeks re-issuing the GET (which once happened on every READ).
    assert.equal((requests.get('GetObjectCommand') ?? 0) - gets, 1, 'one streaming GET serves the whole download');
    process.stderr.write(`# S3FS on s3rver: OpenSSH sftp put of 100 MiB ${putSeconds.toFixed(2)} s, get ${getSeconds.toFixed(2)} s\n`);
  });

  it('lists a directory of 3,000 keys, each name once', async () => {
    const names = Array.from({ length: 3000 }, (_, i) => `key-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 100) {
      await Promise.all(
        names.slice(i, i + 100).map((name) => s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `e2e/many/${name}`, Body: name }))),
      );
    }
    const result = await batch(['ls -1 /many']);
    assertSucceeded(result);
    const listed = result.stdout.split('\n').filter((line) => line.startsWith('/many/')).map((line) => line.trim().slice('/many/'.length));
    assert.equal(listed.length, 3000);
    assert.deepEqual([...listed].sort(), names);
  });

  it('renames a directory: every key moves, the old prefix is empty', async () => {
    assertSucceeded(await batch(['mkdir /tree', 'mkdir /tree/sub', 'put big.bin /tree/sub/file.bin', 'rename /tree /moved']));
    const keys = async (prefix: string) =>
      ((await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }))).Contents ?? []).map((object) => object.Key).sort();
    assert.deepEqual(await keys('e2e/tree/'), []);
    assert.deepEqual(await keys('e2e/moved/'), ['e2e/moved/', 'e2e/moved/sub/', 'e2e/moved/sub/file.bin']);
    const expected = await sha256OfStream(createReadStream(join(local.path, 'big.bin')));
    assert.equal(await objectSha256(s3.client, s3.bucket, 'e2e/moved/sub/file.bin'), expected);
  });

  it('an upload killed mid-way leaves no new object, and an existing one untouched', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'e2e/victim.bin', Body: 'the original' }));
    const partsBefore = requests.get('UploadPartCommand') ?? 0;
    const sessionsBefore = sessions.length;
    const sftp = startSftp(server.port, server.clientKeyPath, ['put big.bin /victim.bin', 'put big.bin /fresh.bin'], local.path);
    try {
      await waitFor(() => (requests.get('UploadPartCommand') ?? 0) > partsBefore, 'a first part of the upload to reach S3', 60_000);
    } finally {
      sftp.child.kill('SIGKILL');
    }
    await sftp.exited;
    await waitFor(() => sessions.length > sessionsBefore, 'the session to be seen');
    const session = sessions[sessions.length - 1]!;
    // The server aborts the handle when the session ends; 'close' follows once that is done.
    await once(session, 'close');
    const body = await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'e2e/victim.bin' }))).Body!.transformToString();
    assert.equal(body, 'the original', 'the existing object is untouched');
    assert.equal(await objectExists(s3.client, s3.bucket, 'e2e/fresh.bin'), false, 'no partial object appears');
  });
});

describe('S3FS when the S3 server dies mid-upload', { skip }, () => {
  let s3: S3rverInstance;
  let server: TestServer;
  let local: ReturnType<typeof makeTempDir>;

  before(async () => {
    local = makeTempDir('sftp-expose-s3-dies-');
    s3 = await startS3rver();
    // Bounded retries and timeouts: a dead endpoint is an error within seconds, not a hang.
    const fs = new S3FS({ bucket: s3.bucket, ...s3.connection, maxAttempts: 2, connectionTimeoutMs: 2000, requestTimeoutMs: 5000 });
    server = await startTestServer({ fs });
  });
  after(async () => {
    await server?.close();
    await s3?.stop();
    local?.remove();
  });

  it('the client gets an error, not a hang', async () => {
    await writeRandomFile(join(local.path, 'big.bin'), 64 * MiB);
    const parts = countRequests((server.fs as S3FS).bucket.client);
    const started = Date.now();
    const sftp = startSftp(server.port, server.clientKeyPath, ['put big.bin /big.bin'], local.path);
    try {
      await waitFor(() => (parts.get('UploadPartCommand') ?? 0) >= 1, 'a first part to reach S3', 60_000);
      await s3.kill();
      const code = await Promise.race([sftp.exited, new Promise((resolve) => setTimeout(resolve, 45_000, 'hung'))]);
      assert.notEqual(code, 'hung', 'sftp finished');
      assert.notEqual(code, 0, 'sftp reports the failed put');
      assert.match(sftp.stderr(), /failure|error|ECONNREFUSED|S3/i);
      process.stderr.write(`# S3 server killed mid-upload: sftp failed after ${((Date.now() - started) / 1000).toFixed(1)} s: ${sftp.stderr().trim()}\n`);
    } finally {
      sftp.child.kill('SIGKILL');
    }
  });
});

/** Lets users alice and bob in with the test key; each sees only their own prefix of one bucket. */
class TenantServer extends BaseSFTPServer {
  constructor(options: ConstructorParameters<typeof BaseSFTPServer>[0], private readonly bucketFS: S3FS, private readonly key: PublicKey) {
    super(options);
  }
  override getAllowedAuths() {
    return ['publickey' as const];
  }
  override checkAuthPublickey(username: string, key: PublicKey): AuthResult {
    return ['alice', 'bob'].includes(username) && isKeyAllowed([this.key], key) ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
  }
  override getFS(session: { username: string }) {
    return this.bucketFS.withPrefix(`tenants/${session.username}`);
  }
}

describe('S3FS tenants: one bucket, a prefix per user', { skip }, () => {
  let s3: S3rverInstance;
  let server: TestServer;
  let local: ReturnType<typeof makeTempDir>;
  const as = (user: string, commands: string[]) => runSftpBatch(server.port, server.clientKeyPath, commands, { cwd: local.path, user });

  before(async () => {
    local = makeTempDir('sftp-expose-s3-tenants-');
    s3 = await startS3rver();
    const bucketFS = new S3FS({ bucket: s3.bucket, ...s3.connection });
    server = await startTestServer({ fs: bucketFS, create: (options) => new TenantServer(options, bucketFS, clientKey().publicKey) });
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'tenants/alice/secret.txt', Body: 'alice only' }));
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'top-level.txt', Body: 'nobody' }));
  });
  after(async () => {
    await server?.close();
    await s3?.stop();
    local?.remove();
  });

  it("a tenant's upload lands under its prefix", async () => {
    assertSucceeded(await as('bob', ['put /etc/hostname bobs.txt']));
    assert.equal(await objectExists(s3.client, s3.bucket, 'tenants/bob/bobs.txt'), true);
    assert.equal(await objectExists(s3.client, s3.bucket, 'bobs.txt'), false);
  });

  it("another tenant's keys are invisible, also through ..", async () => {
    const listing = await as('bob', ['ls -1 /', 'ls -1 ..', 'ls -1 ../..', '-cd ../alice', 'pwd']);
    assertSucceeded(listing);
    assert.doesNotMatch(listing.stdout, /secret\.txt|top-level\.txt|tenants/);
    assert.match(listing.stdout, /Remote working directory: \/\n/, 'cd .. stays at the tenant root');
    for (const path of ['../alice/secret.txt', '/../alice/secret.txt', '../../tenants/alice/secret.txt', '/../../top-level.txt']) {
      const result = await as('bob', [`get ${path} stolen.txt`]);
      assert.notEqual(result.code, 0, `bob must not read ${path}`);
    }
    assert.throws(() => readFileSync(join(local.path, 'stolen.txt')), /ENOENT/);
    assertSucceeded(await as('alice', ['get secret.txt mine.txt']));
    assert.equal(readFileSync(join(local.path, 'mine.txt'), 'utf8'), 'alice only');
  });
});

describe('sftp-expose serve s3://bucket/prefix (the built CLI)', { skip }, () => {
  let s3: S3rverInstance;
  let cli: RunningCLI | undefined;
  let home: ReturnType<typeof makeTempDir>;
  const s3Flags = () => ['--s3-endpoint', s3.endpoint, '--s3-force-path-style', '--s3-access-key-id', 'S3RVER', '--s3-secret-access-key', 'S3RVER'];

  before(async () => {
    home = makeTempDir('sftp-expose-s3-cli-');
    s3 = await startS3rver();
  });
  after(async () => {
    await cli?.stop();
    await s3?.stop();
    home?.remove();
  });

  it('serves the prefix with rclone-named flags; uploads land as objects', async () => {
    const key = clientKey();
    cli = await startServe(
      [`s3://${s3.bucket}/from-cli`, ...s3Flags(), '--s3-chunk-size', '5M', '--s3-upload-concurrency', '2', '--user', 'tester', '--authorized-keys', `${key.path}.pub`],
      home.path,
    );
    const digest = await writeRandomFile(join(home.path, 'up.bin'), 12 * MiB);
    assertSucceeded(await runSftpBatch(cli.port, key.path, ['put up.bin /up.bin', 'ls -l /'], { cwd: home.path }));
    assert.equal(await objectSha256(s3.client, s3.bucket, 'from-cli/up.bin'), digest);
  });

  it('a missing bucket stops the CLI at start with a message naming it', async () => {
    const result = await runCLI(['serve', '--addr', '127.0.0.1:0', 's3://no-such-bucket', ...s3Flags(), '--no-auth'], home.path);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /no-such-bucket/);
    assert.match(result.stderr, /bucket does not exist/i);
  });
});
