import { S3Client } from '@aws-sdk/client-s3';

/** How to reach the S3 service; everything unset comes from the standard AWS chain (env, ~/.aws). */
export interface S3ConnectionOptions {
  /** AWS region; with a custom endpoint and none anywhere, `us-east-1`. */
  region?: string;
  /** A non-AWS endpoint (MinIO, Ceph RGW, ...), e.g. `http://127.0.0.1:9000`. */
  endpoint?: string;
  /** Address buckets as `endpoint/bucket/key` (most S3-compatible servers need it). */
  forcePathStyle?: boolean;
  /** Explicit keys; default: the AWS credential chain (AWS_ACCESS_KEY_ID..., profiles, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request, retries of throttling/5xx/network errors with backoff included (default 3). */
  maxAttempts?: number;
  /** Milliseconds to establish a connection before it counts as failed (default 10 s). */
  connectionTimeoutMs?: number;
  /** Milliseconds a request may sit with no data moving before it fails (default 60 s). */
  requestTimeoutMs?: number;
}

/**
 * Makes the S3 client S3FS uses. Checksums are computed only where S3
 * requires them: the SDK's newer default (a CRC on every upload) is refused
 * by many S3-compatible servers and costs CPU for nothing TLS does not cover.
 */
export function createS3Client(options: S3ConnectionOptions): S3Client {
  const envRegion = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  return new S3Client({
    region: options.region ?? envRegion ?? (options.endpoint ? 'us-east-1' : undefined),
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 60_000,
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
