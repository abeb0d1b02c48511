/**
 * The sftp-expose server of the bench's S3 workload: S3FS on a bucket of an
 * S3-compatible server, run as its own process so that its memory can be read
 * from /proc. Prints `listening <port>` on stdout once it accepts connections.
 *
 *   node --import tsx bench/s3Server.ts --authorized-keys FILE --host-key FILE
 *        --endpoint URL --bucket NAME [--prefix P] [--access-key-id K --secret-access-key S]
 *
 * The S3 client is set up as for any S3-compatible server (path-style
 * addressing, checksums only where required), with S3FS's default part size
 * and upload concurrency, so the bench measures what `sftp-expose serve
 * s3://...` does out of the box.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { S3FS, parseAuthorizedKeys } from '../dist/index.js';
import { BenchSFTPServer } from './benchServer.js';

const { values } = parseArgs({
  options: {
    'host-key': { type: 'string' },
    'authorized-keys': { type: 'string' },
    endpoint: { type: 'string' },
    bucket: { type: 'string' },
    prefix: { type: 'string', default: '' },
    'access-key-id': { type: 'string', default: 'S3RVER' },
    'secret-access-key': { type: 'string', default: 'S3RVER' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

if (!values['host-key'] || !values['authorized-keys'] || !values.endpoint || !values.bucket) {
  process.stderr.write('usage: s3Server.ts --host-key FILE --authorized-keys FILE --endpoint URL --bucket NAME [--prefix P] [--port N]\n');
  process.exit(2);
}

const fs = new S3FS({
  bucket: values.bucket,
  prefix: values.prefix,
  endpoint: values.endpoint,
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: { accessKeyId: values['access-key-id']!, secretAccessKey: values['secret-access-key']! },
});
const keys = parseAuthorizedKeys(readFileSync(values['authorized-keys'], 'utf8'));
const server = new BenchSFTPServer(fs, values['host-key'], keys);
const { port } = await server.listen(Number(values.port), values.host);
const stop = () => {
  server
    .close()
    .then(() => fs.close())
    .finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdout.write(`listening ${port}\n`);
