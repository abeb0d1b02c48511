import type { ServerSideEncryption, StorageClass } from '@aws-sdk/client-s3';
import { S3FS, type S3FSOptions } from '../backends/s3/S3FS.js';
import type { Logger } from '../logger.js';
import { certificateHint, readCaCertificates } from './caCertificates.js';
import { UsageError } from './serveOptions.js';

type Flags = Readonly<Record<string, string | boolean | string[] | undefined>>;

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** rclone's size syntax: `8M`, `16Mi`, `5MiB`, `8388608` (K/M/G are binary, as rclone reads them). */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b?)$/i.exec(text.trim());
  if (!match) throw new UsageError(`invalid --${flag} "${text}": expected a size such as 8M or 16Mi`);
  return Math.round(Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!);
}

function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** rclone's tristate `--s3-use-unsigned-payload`: true, false, or unset for S3FS's default (unsigned over HTTPS only). */
function parseUnsignedPayload(flags: Flags): boolean | undefined {
  const text = stringFlag(flags, 's3-use-unsigned-payload');
  if (text === undefined) return undefined;
  // The spellings Go's strconv.ParseBool (and so rclone) accepts.
  if (/^(true|t|1)$/i.test(text)) return true;
  if (/^(false|f|0)$/i.test(text)) return false;
  throw new UsageError(`invalid --s3-use-unsigned-payload "${text}": expected true or false`);
}

/**
 * Opens `s3://bucket[/prefix]` for the CLI, with rclone's S3 flag names.
 * Credentials, region and endpoint not given as flags come from the standard
 * AWS chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_PROFILE, ~/.aws, instance roles). The
 * bucket is listed once at start, so a wrong name or key fails here, clearly.
 */
export async function openS3Backend(spec: string, flags: Flags, logger: Logger): Promise<S3FS> {
  const match = /^s3:\/\/([^/]+)(\/.*)?$/i.exec(spec);
  if (!match) throw new UsageError(`invalid S3 backend "${spec}": expected s3://bucket or s3://bucket/prefix`);
  const accessKeyId = stringFlag(flags, 's3-access-key-id');
  const secretAccessKey = stringFlag(flags, 's3-secret-access-key');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new UsageError('--s3-access-key-id and --s3-secret-access-key go together');
  }
  const chunkSize = stringFlag(flags, 's3-chunk-size');
  const concurrency = stringFlag(flags, 's3-upload-concurrency');
  if (concurrency !== undefined && !/^[1-9]\d*$/.test(concurrency)) throw new UsageError(`invalid --s3-upload-concurrency "${concurrency}": expected a positive integer`);
  const partSize = chunkSize !== undefined ? parseSize(chunkSize, 's3-chunk-size') : undefined;
  if (partSize !== undefined && partSize < 5 * 1024 * 1024) throw new UsageError(`--s3-chunk-size must be at least 5M (S3's smallest part), got ${chunkSize}`);
  const options: S3FSOptions = {
    bucket: match[1]!,
    prefix: decodeURIComponent(match[2] ?? ''),
    endpoint: stringFlag(flags, 's3-endpoint'),
    region: stringFlag(flags, 's3-region'),
    forcePathStyle: flags['s3-force-path-style'] === true ? true : undefined,
    credentials: accessKeyId !== undefined ? { accessKeyId, secretAccessKey: secretAccessKey! } : undefined,
    partSize,
    uploadConcurrency: concurrency !== undefined ? Number(concurrency) : undefined,
    storageClass: stringFlag(flags, 's3-storage-class') as StorageClass | undefined,
    serverSideEncryption: stringFlag(flags, 's3-server-side-encryption') as ServerSideEncryption | undefined,
    sseKmsKeyId: stringFlag(flags, 's3-sse-kms-key-id'),
    useServerModtime: flags['s3-use-server-modtime'] === true,
    unsignedPayload: parseUnsignedPayload(flags),
    caCertificates: readCaCertificates(flags),
    logger,
  };
  let fs: S3FS;
  try {
    fs = new S3FS(options);
  } catch (error) {
    throw new UsageError(`invalid S3 backend "${spec}": ${(error as Error).message}`);
  }
  try {
    for await (const _entry of fs.listdir('/')) break;
  } catch (error) {
    throw new Error(`cannot use S3 backend ${spec}: ${(error as Error).message}${certificateHint(error)}`);
  }
  return fs;
}
