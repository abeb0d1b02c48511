import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3FS } from '../../src/backends/s3/S3FS.js';
import { flags, pattern } from '../../src/conformance/harness.js';
import { runConformanceSuite } from '../../src/conformance/index.js';
import { DirectoryNotEmpty, InvalidArgument, Unsupported } from '../../src/fs/errors.js';
import { startS3rver, type S3rverInstance } from '../helpers/s3rver.js';

// One real s3rver for the file; each test gets a fresh, empty prefix of its bucket.
let server: Promise<S3rverInstance> | undefined;
let tests = 0;
after(async () => {
  if (server) await (await server).stop();
});

runConformanceSuite(
  'S3FS on s3rver',
  async () => {
    server ??= startS3rver();
    const s3 = await server;
    return { fs: new S3FS({ bucket: s3.bucket, prefix: `conformance-${++tests}`, ...s3.connection }) };
  },
  // Modes, owners and times are object metadata; S3 objects are written front to back, once.
  { symlinks: false, hardlinks: false, randomAccessWrites: false },
);

describe('S3FS specifics on s3rver', () => {
  const MiB = 1024 * 1024;
  let s3: S3rverInstance;
  let fs: S3FS;
  let requests: Map<string, number>;
  let prefixes = 0;
  /** A fresh S3FS on its own prefix, counting the requests it sends. */
  const fresh = () => {
    const prefix = `specifics-${++prefixes}/`;
    const made = new S3FS({ bucket: s3.bucket, prefix, ...s3.connection });
    return { fs: made, prefix };
  };

  before(async () => {
    server ??= startS3rver();
    s3 = await server;
    ({ fs } = fresh());
    requests = countRequests(fs.bucket.client);
  });

  it('an aborted upload publishes nothing and leaves the existing object untouched', async () => {
    await fs.writeFile('/kept', 'original');
    for (const path of ['/kept', '/new']) {
      const handle = await fs.open(path, flags('write', 'create', 'truncate'));
      await handle.write(0, pattern(20 * MiB));
      await handle.abort!();
    }
    assert.equal((await fs.readFile('/kept')).toString(), 'original');
    assert.equal(await fs.exists('/new'), false);
  });

  it('writes far beyond the reorder window fail with Unsupported; close fails and publishes nothing', async () => {
    await fs.writeFile('/f', 'before');
    const handle = await fs.open('/f', flags('write', 'truncate'));
    await handle.write(0, Buffer.from('ab'));
    await assert.rejects(handle.write(64 * MiB, Buffer.from('cd')), Unsupported);
    await assert.rejects(handle.write(2, Buffer.from('ef')), Unsupported, 'a later write reports the earlier failure');
    await assert.rejects(handle.close(), Unsupported);
    assert.equal((await fs.readFile('/f')).toString(), 'before');
  });

  it('pipelined writes arriving out of order across part boundaries are reordered', async () => {
    const data = pattern(20 * MiB + 1234, 3);
    const chunk = 32 * 1024;
    const offsets = Array.from({ length: Math.ceil(data.length / chunk) }, (_, i) => i * chunk);
    // Swap neighbours pairwise: every other write lands ahead of the one it follows.
    for (let i = 0; i + 1 < offsets.length; i += 2) [offsets[i], offsets[i + 1]] = [offsets[i + 1]!, offsets[i]!];
    const parts = requests.get('UploadPartCommand') ?? 0;
    const handle = await fs.open('/big', flags('write', 'create', 'truncate'));
    for (const offset of offsets) await handle.write(offset, data.subarray(offset, offset + chunk));
    await handle.close();
    assert.equal((requests.get('UploadPartCommand') ?? 0) - parts, 3, '20 MiB goes as three 8 MiB-or-less parts');
    assert.ok((await fs.readFile('/big')).equals(data));
  });

  it('resuming a write at the end of an existing multi-part object keeps its content', async () => {
    const data = pattern(12 * MiB, 8);
    await fs.writeFile('/resume', data.subarray(0, 9 * MiB));
    const handle = await fs.open('/resume', flags('write'));
    for (let offset = 9 * MiB; offset < data.length; offset += MiB) await handle.write(offset, data.subarray(offset, offset + MiB));
    await handle.close();
    assert.ok((await fs.readFile('/resume')).equals(data));
  });

  it('reads seek: a read far from the stream position re-issues the GET, and bytes are right', async () => {
    const data = pattern(30 * MiB, 4);
    await fs.writeFile('/seek', data);
    const gets = requests.get('GetObjectCommand') ?? 0;
    const handle = await fs.open('/seek', flags('read'));
    try {
      assert.ok((await handle.read(0, 1000)).equals(data.subarray(0, 1000)));
      assert.ok((await handle.read(1000, 1000)).equals(data.subarray(1000, 2000)), 'sequential: same stream');
      assert.equal((requests.get('GetObjectCommand') ?? 0) - gets, 1);
      assert.ok((await handle.read(25 * MiB, 5000)).equals(data.subarray(25 * MiB, 25 * MiB + 5000)));
      assert.ok((await handle.read(10, 10)).equals(data.subarray(10, 20)));
      assert.equal((await handle.read(30 * MiB, 10)).length, 0, 'EOF');
      assert.equal((requests.get('GetObjectCommand') ?? 0) - gets, 3, 'two seeks, two more GETs');
    } finally {
      await handle.close();
    }
  });

  it('pipelined reads beyond the read-ahead share one GET; a seek among them gets its own; readInto gives the same bytes', async () => {
    const data = pattern(30 * MiB, 5);
    await fs.writeFile('/pipelined', data);
    const gets = requests.get('GetObjectCommand') ?? 0;
    const handle = await fs.open('/pipelined', flags('read'));
    try {
      // As OpenSSH reads: 64 READs of 255 KiB in flight, 16 MiB, twice S3FS's 8 MiB read-ahead.
      const length = 255 * 1024;
      const reads: Promise<void>[] = [];
      for (let i = 0; i < 64; i++) {
        const offset = i * length;
        const target = Buffer.alloc(length);
        reads.push(handle.readInto!(target, offset).then((count) => assert.ok(target.subarray(0, count).equals(data.subarray(offset, offset + length)), `readInto at ${offset}`)));
      }
      // A read far ahead while those wait: it must not restart the stream they wait on.
      reads.push(handle.read(28 * MiB, 5000).then((got) => assert.ok(got.equals(data.subarray(28 * MiB, 28 * MiB + 5000)), 'the seek')));
      await Promise.all(reads);
      assert.equal((requests.get('GetObjectCommand') ?? 0) - gets, 2, 'the stream and the seek, one GET each');
      const tail = Buffer.alloc(100);
      assert.equal(await handle.readInto!(tail, 30 * MiB - 40), 40, 'a short read at the end');
      assert.ok(tail.subarray(0, 40).equals(data.subarray(30 * MiB - 40)));
      assert.equal(await handle.readInto!(tail, 30 * MiB), 0, 'EOF');
    } finally {
      await handle.close();
    }
  });

  it('md5 of a single-part object comes from its ETag, without reading it', async () => {
    const data = pattern(100_000, 6);
    await fs.writeFile('/h', data);
    const gets = requests.get('GetObjectCommand') ?? 0;
    assert.equal((await fs.hash('/h', 'md5', 0, 0)).toString('hex'), createHash('md5').update(data).digest('hex'));
    assert.equal(requests.get('GetObjectCommand') ?? 0, gets);
  });

  it('directories exist with or without a marker; rmdir refuses a non-empty one', async () => {
    const { fs: view, prefix } = fresh();
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}implicit/deep/file`, Body: 'x' }));
    assert.equal((await view.stat('/implicit')).type, 'directory');
    assert.deepEqual((await view.listdirAll('/implicit')).map((entry) => [entry.name, entry.stats.type]), [['deep', 'directory']]);
    await assert.rejects(view.rmdir('/implicit/deep'), DirectoryNotEmpty);
    await view.remove('/implicit/deep/file');
    assert.equal((await view.stat('/implicit/deep')).type, 'directory', 'emptied by us, the directory stays (a marker is left)');
    await view.rmdir('/implicit/deep');
  });

  it('mtime and mode are object metadata other S3 tools can read', async () => {
    await fs.writeFile('/m', 'x');
    await fs.setstat('/m', { mtime: 1_500_000_000, permissions: 0o600 });
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'specifics-1/m' }));
    assert.equal(head.Metadata?.mtime, '1500000000');
    assert.equal(head.Metadata?.mode, '100600');
    const entry = (await fs.listdirAll('/')).find((e) => e.name === 'm');
    assert.equal(entry?.stats.mtime, 1_500_000_000, 'listings report the stored mtime');
  });

  it('a tenant view cannot be made with .. and cannot reach outside its prefix', async () => {
    assert.throws(() => fs.withPrefix('../other'), InvalidArgument);
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'outside', Body: 'x' }));
    const tenant = fs.withPrefix('tenant-a');
    await tenant.writeFile('/mine', 'a');
    assert.equal(await tenant.exists('/../../outside'), false);
    assert.deepEqual((await tenant.listdirAll('/..')).map((entry) => entry.name), ['mine']);
    assert.equal(await objectText(s3, 'specifics-1/tenant-a/mine'), 'a');
  });
});

async function objectText(s3: S3rverInstance, key: string): Promise<string> {
  return (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body!.transformToString();
}

/** Counts the S3 requests of each kind a client sends (observing only: they still go to the server). */
function countRequests(client: S3Client): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return result;
    },
    { step: 'initialize', name: 'countRequestsForTest' },
  );
  return counts;
}
