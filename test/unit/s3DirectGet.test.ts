import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ChunkPool } from '../../src/backends/s3/chunkPool.js';
import { ObjectReader } from '../../src/backends/s3/download.js';
import { DIRECT_BODY, DirectBody, directGet, type BodySink, type DirectGetSettings, type SignedRequest } from '../../src/backends/s3/directGet.js';
import { S3FS } from '../../src/backends/s3/S3FS.js';
import { parseOpenFlags } from '../../src/fs/types.js';
import { startS3rver, type S3rverInstance } from '../helpers/s3rver.js';

const MiB = 1024 * 1024;
const settings: DirectGetSettings = { connectionTimeoutMs: 5_000, requestTimeoutMs: 5_000 };

/** A real HTTP server on 127.0.0.1 whose answer each test sets. */
async function startHttpServer(answer: http.RequestListener): Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const server = http.createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function request(port: number, path = '/bucket/key', extra: Partial<SignedRequest> = {}): SignedRequest {
  return { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, authorization: 'AWS4-HMAC-SHA256 test' }, ...extra };
}

/** Collects a DirectBody through a sink, copying each view as a sink must. */
function collect(body: DirectBody): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    body.deliverTo({ data: (view) => parts.push(Buffer.from(view)), end: () => resolve(Buffer.concat(parts)), error: reject });
  });
}

const pattern = (length: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + (i >> 8)) % 256));

describe('directGet: a signed GET read into one reused buffer', () => {
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  let answer: http.RequestListener = () => {};
  before(async () => {
    server = await startHttpServer((req, res) => answer(req, res));
  });
  after(() => server.close());

  it('sends the request as signed (path, sorted escaped query, headers) and delivers the exact body of 20 MiB', async () => {
    const data = pattern(20 * MiB);
    let seen: http.IncomingMessage | undefined;
    answer = (req, res) => {
      seen = req;
      res.writeHead(200, { 'content-length': data.length, etag: '"e"' });
      res.end(data);
    };
    const response = await directGet(request(server.port, '/bucket/a%20b', { query: { 'x-id': 'GetObject', 'b': ["it's", 'x'], flag: null } }), settings);
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers.etag, '"e"');
    assert.ok(response.body instanceof DirectBody);
    const received = await collect(response.body);
    assert.equal(createHash('sha256').update(received).digest('hex'), createHash('sha256').update(data).digest('hex'));
    assert.equal(seen!.url, '/bucket/a%20b?b=it%27s&b=x&flag&x-id=GetObject');
    assert.equal(seen!.headers.authorization, 'AWS4-HMAC-SHA256 test');
    assert.equal(seen!.headers.connection, 'close');
  });

  it('a chunked body arrives whole; so does an error body read as a plain Readable (as the SDK reads errors)', async () => {
    const data = pattern(3 * MiB + 5);
    answer = (_req, res) => {
      res.writeHead(200); // no length: Node sends it chunked
      res.write(data.subarray(0, MiB));
      res.end(data.subarray(MiB));
    };
    const chunkedResponse = await directGet(request(server.port), settings);
    assert.deepEqual(await collect(chunkedResponse.body), data);

    answer = (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<Error><Code>NoSuchKey</Code></Error>');
    };
    const missing = await directGet(request(server.port), settings);
    assert.equal(missing.statusCode, 404);
    const parts: Buffer[] = [];
    for await (const part of missing.body) parts.push(part as Buffer);
    assert.equal(Buffer.concat(parts).toString(), '<Error><Code>NoSuchKey</Code></Error>');
  });

  it('a server that dies mid-body gives the sink an error, not a short body', async () => {
    answer = (req, res) => {
      res.writeHead(200, { 'content-length': 10 * MiB });
      res.write(pattern(MiB), () => req.socket.destroy());
    };
    const response = await directGet(request(server.port), settings);
    await assert.rejects(collect(response.body), /closed (the connection )?before the end of the response/);
  });

  it('no data while the reader waits is a TimeoutError; a paused reader is never timed out', async () => {
    const data = pattern(4 * MiB);
    answer = (_req, res) => {
      res.writeHead(200, { 'content-length': data.length + 1 });
      res.write(data); // and the last byte never comes
    };
    const quick = { connectionTimeoutMs: 5_000, requestTimeoutMs: 300 };
    const stalled = await directGet(request(server.port), quick);
    await assert.rejects(collect(stalled.body), (error: Error) => error.name === 'TimeoutError' && /no data from the S3 server for 300 ms/.test(error.message));

    answer = (_req, res) => {
      res.writeHead(200, { 'content-length': data.length });
      res.end(data);
    };
    // A longer timeout here: this half must not time out while data flows, also on a loaded CI machine.
    const patient = { connectionTimeoutMs: 5_000, requestTimeoutMs: 1_000 };
    const response = await directGet(request(server.port), patient);
    const parts: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const sink: BodySink = {
        data: (view) => {
          parts.push(Buffer.from(view));
          if (parts.length === 1) {
            response.body.control.pause();
            setTimeout(() => response.body.control.resume(), 3_000); // three timeouts long
          }
        },
        end: resolve,
        error: reject,
      };
      response.body.deliverTo(sink);
    });
    await done;
    assert.deepEqual(Buffer.concat(parts), data);
  });

  it('an abort before the head rejects with AbortError; after it, the body fails', async () => {
    answer = () => {}; // never answers
    const early = new AbortController();
    const pending = directGet(request(server.port), settings, early.signal);
    setTimeout(() => early.abort(), 50);
    await assert.rejects(pending, { name: 'AbortError' });

    answer = (_req, res) => {
      res.writeHead(200, { 'content-length': 10 * MiB });
      res.write(pattern(MiB));
    };
    const late = new AbortController();
    const response = await directGet(request(server.port), settings, late.signal);
    const body = collect(response.body);
    late.abort();
    await assert.rejects(body, { name: 'AbortError' });
  });

  it('a header value with a line break is refused before connecting', async () => {
    let requests = 0;
    answer = (_req, res) => {
      requests++;
      res.end();
    };
    let connections = 0;
    const counting = await startHttpServer(() => {});
    counting.server.on('connection', () => connections++);
    await assert.rejects(directGet(request(counting.port, '/b/k', { headers: { host: 'x', 'x-amz-meta-a': 'a\r\nInjected: 1' } }), settings), /line break/);
    await assert.rejects(directGet(request(server.port, '/b/k x'), settings), /whitespace/);
    await counting.close();
    assert.equal(connections, 0);
    assert.equal(requests, 0);
  });
});

describe('S3 downloads through DirectBodyHandler on s3rver', () => {
  let s3: S3rverInstance;
  let fs: S3FS;
  before(async () => {
    s3 = await startS3rver();
    fs = new S3FS({ bucket: s3.bucket, prefix: 'direct', ...s3.connection });
  });
  after(async () => {
    await fs?.close();
    await s3?.stop();
  });

  it("S3FS's client answers a GetObject sent with the option with a DirectBody; S3 errors keep their names", async () => {
    const client = fs.bucket.client;
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'direct/obj', Body: pattern(MiB) }));
    const response = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'direct/obj', Range: 'bytes=10-' }), { [DIRECT_BODY]: true } as object);
    assert.ok(response.Body instanceof DirectBody);
    assert.deepEqual(await collect(response.Body), pattern(MiB).subarray(10));
    const plain = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'direct/obj' }));
    assert.ok(!(plain.Body instanceof DirectBody), 'without the option, the SDK handler');

    await assert.rejects(client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'direct/none' }), { [DIRECT_BODY]: true } as object), { name: 'NoSuchKey' });
    await assert.rejects(client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'direct/obj', Range: 'bytes=9999999-' }), { [DIRECT_BODY]: true } as object), { name: 'InvalidRange' });
  });

  /** Reads two files at once through `reader`, eight pipelined reads each, and checks every byte. */
  async function readTwoAtOnce(reader: S3FS, a: Buffer, b: Buffer): Promise<void> {
    const [ha, hb] = await Promise.all([reader.open('/a.bin', parseOpenFlags('r')), reader.open('/b.bin', parseOpenFlags('r'))]);
    const readAll = async (handle: typeof ha, size: number) => {
      const out = Buffer.alloc(size);
      const block = 255 * 1024;
      for (let offset = 0; offset < size; offset += block * 8) {
        // Eight reads in flight, as an SFTP client pipelines them.
        await Promise.all(Array.from({ length: 8 }, (_, i) => offset + i * block).filter((at) => at < size).map((at) => handle.readInto!(out.subarray(at, Math.min(size, at + block)), at)));
      }
      return out;
    };
    const [ra, rb] = await Promise.all([readAll(ha, a.length), readAll(hb, b.length)]);
    await Promise.all([ha.close(), hb.close()]);
    assert.ok(ra.equals(a), 'file a');
    assert.ok(rb.equals(b), 'file b');
  }

  it('two files read at once, interleaved, through pooled chunks: each byte for byte', async () => {
    const a = pattern(24 * MiB);
    const b = Buffer.from(a).reverse();
    await fs.writeFile('/a.bin', a);
    await fs.writeFile('/b.bin', b);
    await readTwoAtOnce(fs, a, b);
    // An S3FS on a client of the caller's own (no DirectBodyHandler) reads the SDK's streams instead.
    const { endpoint, region, credentials } = s3.connection;
    const plainClient = new S3Client({ endpoint, region, credentials, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    const own = new S3FS({ bucket: s3.bucket, prefix: 'direct', client: plainClient });
    await readTwoAtOnce(own, a, b);
    plainClient.destroy();
  });

  it('a 24 MiB download with 2 MiB read-ahead gives its chunks back as it goes: far fewer distinct chunks than 96', async () => {
    const data = pattern(24 * MiB);
    await fs.writeFile('/pooled.bin', data);
    const chunks = new Set<ArrayBufferLike>();
    class CountingPool extends ChunkPool {
      override take(): Buffer {
        const chunk = super.take();
        chunks.add(chunk.buffer);
        return chunk;
      }
    }
    const { size, etag } = (await fs.bucket.head('direct/pooled.bin', '/pooled.bin'))!;
    const reader = new ObjectReader({ client: fs.bucket.client, bucket: s3.bucket, key: 'direct/pooled.bin', size, etag, path: '/pooled.bin' }, 2 * MiB, new CountingPool());
    const out = Buffer.alloc(size);
    const block = 255 * 1024;
    for (let offset = 0; offset < size; offset += block) await reader.readInto(out.subarray(offset, Math.min(size, offset + block)), offset);
    reader.close();
    assert.ok(out.equals(data));
    // 2 MiB ahead plus 1 MiB kept behind is 12 chunks of 256 KiB; without reuse every 256 KiB would be a new one.
    assert.ok(chunks.size <= 20, `${chunks.size} distinct chunks`);
  });
});

describe('ChunkPool', () => {
  it('reuses released chunks, ignores foreign buffers and a second release, and keeps at most maxIdle', () => {
    const pool = new ChunkPool(1024, 2);
    const first = pool.take();
    pool.release(first.subarray(100, 200));
    pool.release(first);
    pool.release(Buffer.alloc(1024));
    const again = pool.take();
    assert.equal(again.buffer, first.buffer, 'the released chunk comes back');
    assert.notEqual(pool.take().buffer, first.buffer, 'and only once');
    const chunks = [pool.take(), pool.take(), pool.take()];
    for (const chunk of chunks) pool.release(chunk);
    const reused = [pool.take(), pool.take(), pool.take()].filter((chunk) => chunks.some((c) => c.buffer === chunk.buffer));
    assert.equal(reused.length, 2, 'two kept idle, the third left to the GC');
  });
});
