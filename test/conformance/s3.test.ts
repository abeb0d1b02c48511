import { after } from 'node:test';
import { S3FS } from '../../src/backends/s3/S3FS.js';
import { runConformanceSuite } from '../../src/conformance/index.js';
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
