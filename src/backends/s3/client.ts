import { rootCertificates } from 'node:tls';
import { S3Client } from '@aws-sdk/client-s3';
import { DirectBodyHandler } from './directGet.js';

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
  /**
   * Send uploaded bytes as `UNSIGNED-PAYLOAD` instead of signing their SHA-256 (which costs about
   * as much CPU as the rest of an upload through sftp-expose). Default: only over HTTPS, where TLS
   * already guards the bytes; over plain HTTP the hash is S3's only check of them in transit (the
   * AWS SDK for Java's AWS4UnsignedPayloadSigner makes the same choice).
   */
  unsignedPayload?: boolean;
  /** Extra CA certificates (PEM) to trust besides Node's, for an endpoint with its own CA (MinIO, Ceph). */
  caCertificates?: string | Buffer;
}

/** The requests that carry file content. */
const UPLOADS = new Set(['PutObjectCommand', 'UploadPartCommand']);

/** Marks upload bodies UNSIGNED-PAYLOAD (see `unsignedPayload`) before the request is signed, so the signer does not hash them. */
function addUnsignedPayload(client: S3Client, always: boolean): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { protocol?: string; headers?: Record<string, string> };
      if (UPLOADS.has(context.commandName ?? '') && request.headers && (always || request.protocol === 'https:')) {
        request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    { step: 'build', name: 'sftpExposeUnsignedPayload' },
  );
}

/**
 * Makes the S3 client S3FS uses. Checksums are computed only where S3
 * requires them: the SDK's newer default (a CRC on every upload) is refused
 * by many S3-compatible servers and costs CPU for nothing TLS does not cover.
 * For the same reason uploads over HTTPS are not hashed for the signature
 * (see `unsignedPayload`).
 */
export function createS3Client(options: S3ConnectionOptions): S3Client {
  const envRegion = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const connectionTimeoutMs = options.connectionTimeoutMs ?? 10_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const ca = options.caCertificates === undefined ? undefined : [...rootCertificates, options.caCertificates.toString()];
  const client = new S3Client({
    region: options.region ?? envRegion ?? (options.endpoint ? 'us-east-1' : undefined),
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: connectionTimeoutMs,
      requestTimeout: requestTimeoutMs,
      ...(ca !== undefined && { httpsAgent: { keepAlive: true, ca } }),
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The SDK sends bodies of 2 MiB and more (every part) with "Expect: 100-continue", and then
    // on a fresh connection that is closed afterwards (a TCP and TLS handshake per part) after a
    // round trip for the server's go-ahead. A part is worth sending without asking first.
    expectContinueHeader: false,
  });
  if (options.unsignedPayload !== false) addUnsignedPayload(client, options.unsignedPayload === true);
  // Object downloads (ObjectReader) ask for GETs whose bodies are read without a Buffer per socket read.
  const config = client.config as unknown as { requestHandler: ConstructorParameters<typeof DirectBodyHandler>[0] };
  config.requestHandler = new DirectBodyHandler(config.requestHandler, { connectionTimeoutMs, requestTimeoutMs, ca });
  return client;
}
