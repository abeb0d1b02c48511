/**
 * `sftp-expose serve s3://...` against an S3 endpoint speaking HTTPS with a
 * self-signed certificate (s3rver with the test certificate in test/fixtures):
 * trusted only through `--ca-cert`, and `--s3-use-unsigned-payload` reaching S3FS.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { openS3Backend } from '../../src/cli/s3Backend.js';
import { pattern } from '../../src/conformance/harness.js';
import { silentLogger } from '../../src/logger.js';
import { clientKey, testHostKeyPath } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { startS3rver, type S3rverInstance } from '../helpers/s3rver.js';
import { runSftpBatch } from '../helpers/sftpBatch.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { runCLI, startServe, type RunningCLI } from './cliProcess.js';

const skip = requireTool('sftp') || requireTool('ssh-keygen');
const MiB = 1024 * 1024;
const CA_FILE = fileURLToPath(new URL('../fixtures/s3tls-cert.pem', import.meta.url));

describe('sftp-expose serve s3:// over HTTPS with a private CA (--ca-cert)', { skip }, () => {
  let s3: S3rverInstance;
  let home: ReturnType<typeof makeTempDir>;
  const s3Flags = () => ['--s3-endpoint', s3.endpoint, '--s3-force-path-style', '--s3-access-key-id', 'S3RVER', '--s3-secret-access-key', 'S3RVER'];

  async function objectBytes(key: string): Promise<Buffer> {
    const response = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    const chunks: Buffer[] = [];
    for await (const chunk of response.Body as Readable) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  before(async () => {
    home = makeTempDir('sftp-expose-s3tls-cli-');
    s3 = await startS3rver('tls-cli-bucket', { tls: true });
    assert.match(s3.endpoint, /^https:/);
  });
  after(async () => {
    await s3?.stop();
    home?.remove();
  });

  it('with --ca-cert (given twice: a public root, then the private CA) OpenSSH sftp puts and gets a multipart file, byte for byte', async () => {
    const key = clientKey();
    // An unrelated CA first: the flag repeats, and every file given is trusted.
    const otherCa = join(home.path, 'other-ca.pem');
    writeFileSync(otherCa, rootCertificates[0]!);
    let cli: RunningCLI | undefined;
    try {
      cli = await startServe(
        [`s3://${s3.bucket}/tls`, ...s3Flags(), '--ca-cert', otherCa, '--ca-cert', CA_FILE, '--s3-chunk-size', '5M',
          '--key', testHostKeyPath(), '--user', 'tester', '--authorized-keys', `${key.path}.pub`],
        home.path,
      );
      const data = pattern(12 * MiB + 7, 21);
      writeFileSync(join(home.path, 'up.bin'), data);
      const result = await runSftpBatch(cli.port, key.path, ['put up.bin /up.bin', 'get /up.bin down.bin'], { cwd: home.path, user: 'tester' });
      assert.equal(result.code, 0, `sftp failed: ${result.stderr}\nserver:\n${cli.stderr()}`);
      assert.ok((await objectBytes('tls/up.bin')).equals(data), 'the object holds the uploaded bytes');
      assert.ok(readFileSync(join(home.path, 'down.bin')).equals(data), 'the download holds the uploaded bytes');
    } finally {
      await cli?.stop();
    }
  });

  it('without --ca-cert the endpoint is refused at start, with a message pointing to --ca-cert', async () => {
    const result = await runCLI(['serve', '--addr', '127.0.0.1:0', `s3://${s3.bucket}`, ...s3Flags(), '--no-auth'], home.path);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /certificate is not trusted/);
    assert.match(result.stderr, /--ca-cert FILE/);
  });

  it('a --ca-cert file that is missing or holds no certificate is a usage error', async () => {
    const missing = await runCLI(['serve', `s3://${s3.bucket}`, ...s3Flags(), '--ca-cert', join(home.path, 'absent.pem'), '--no-auth'], home.path);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /cannot read --ca-cert .*absent\.pem/);
    const notPem = join(home.path, 'not-a-cert.pem');
    writeFileSync(notPem, 'hello\n');
    const wrong = await runCLI(['serve', `s3://${s3.bucket}`, ...s3Flags(), '--ca-cert', notPem, '--no-auth'], home.path);
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /holds no PEM certificate/);
  });

  it('--s3-use-unsigned-payload takes true or false only', async () => {
    const result = await runCLI(['serve', `s3://${s3.bucket}`, ...s3Flags(), '--ca-cert', CA_FILE, '--s3-use-unsigned-payload', 'maybe', '--no-auth'], home.path);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /invalid --s3-use-unsigned-payload "maybe": expected true or false/);
  });

  for (const [value, expected] of [[undefined, 'unsigned'], ['false', 'signed'], ['true', 'unsigned']] as const) {
    it(`--s3-use-unsigned-payload ${value ?? 'unset'}: uploads over HTTPS go ${expected}, and land intact`, async () => {
      const flags = { 's3-endpoint': s3.endpoint, 's3-force-path-style': true, 's3-access-key-id': 'S3RVER', 's3-secret-access-key': 'S3RVER', 'ca-cert': [CA_FILE], 's3-use-unsigned-payload': value };
      const fs = await openS3Backend(`s3://${s3.bucket}/flag-${value ?? 'unset'}`, flags, silentLogger);
      try {
        const seen: string[] = [];
        fs.bucket.client.middlewareStack.add(
          (next, context) => async (args) => {
            if (context.commandName === 'PutObjectCommand') seen.push((args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] ?? 'none');
            return next(args);
          },
          // After signing: the header as sent.
          { step: 'deserialize', name: 'payloadHashForTest' },
        );
        const data = pattern(1000, 22);
        await fs.writeFile('/small', data);
        assert.equal(seen.length, 1);
        if (expected === 'unsigned') assert.equal(seen[0], 'UNSIGNED-PAYLOAD');
        else assert.match(seen[0]!, /^[0-9a-f]{64}$/);
        assert.ok((await objectBytes(`flag-${value ?? 'unset'}/small`)).equals(data));
      } finally {
        await fs.close();
      }
    });
  }
});
