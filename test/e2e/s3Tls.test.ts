import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3FS } from '../../src/backends/s3/S3FS.js';
import { pattern } from '../../src/conformance/harness.js';
import { startS3rver, type S3rverInstance } from '../helpers/s3rver.js';

const MiB = 1024 * 1024;

/** The x-amz-content-sha256 of every upload request as signed and sent (observing only). */
function payloadHashes(client: S3Client): string[] {
  const seen: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UploadPartCommand' || context.commandName === 'PutObjectCommand') {
        seen.push((args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] ?? 'none');
      }
      return next(args);
    },
    // After signing: what goes on the wire.
    { step: 'deserialize', name: 'payloadHashesForTest' },
  );
  return seen;
}

async function objectBytes(s3: S3rverInstance, key: string): Promise<Buffer> {
  const response = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  const chunks: Buffer[] = [];
  for await (const chunk of response.Body as Readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes a 20 MiB file (three UploadParts) and a small one (one PutObject) and checks both objects byte for byte. */
async function uploadAndCheck(fs: S3FS, s3: S3rverInstance, prefix: string): Promise<void> {
  const big = pattern(20 * MiB + 5, 11);
  const small = pattern(1000, 12);
  await fs.writeFile('/big', big);
  await fs.writeFile('/small', small);
  assert.ok((await objectBytes(s3, `${prefix}/big`)).equals(big));
  assert.ok((await objectBytes(s3, `${prefix}/small`)).equals(small));
}

describe('S3FS upload signing: unsigned payload over TLS, signed over plain HTTP', () => {
  let tls: S3rverInstance;
  let plain: S3rverInstance;

  before(async () => {
    [tls, plain] = await Promise.all([startS3rver('tls-bucket', { tls: true }), startS3rver('plain-bucket')]);
  });
  after(async () => {
    await Promise.all([tls?.stop(), plain?.stop()]);
  });

  it('over HTTPS, uploads are not hashed for the signature, and the objects hold the bytes', async () => {
    assert.match(tls.endpoint, /^https:/);
    const fs = new S3FS({ bucket: tls.bucket, prefix: 'unsigned', ...tls.connection });
    try {
      const hashes = payloadHashes(fs.bucket.client);
      await uploadAndCheck(fs, tls, 'unsigned');
      assert.deepEqual(hashes, ['UNSIGNED-PAYLOAD', 'UNSIGNED-PAYLOAD', 'UNSIGNED-PAYLOAD', 'UNSIGNED-PAYLOAD']);
    } finally {
      await fs.close();
    }
  });

  it('over HTTPS with unsignedPayload: false, and over plain HTTP by default, every upload is signed with its SHA-256', async () => {
    const cases = [
      { s3: tls, fs: new S3FS({ bucket: tls.bucket, prefix: 'signed', ...tls.connection, unsignedPayload: false }) },
      { s3: plain, fs: new S3FS({ bucket: plain.bucket, prefix: 'signed', ...plain.connection }) },
    ];
    try {
      for (const { s3, fs } of cases) {
        const hashes = payloadHashes(fs.bucket.client);
        await uploadAndCheck(fs, s3, 'signed');
        assert.equal(hashes.length, 4);
        for (const hash of hashes) assert.match(hash, /^[0-9a-f]{64}$/);
      }
    } finally {
      await Promise.all(cases.map(({ fs }) => fs.close()));
    }
  });
});
