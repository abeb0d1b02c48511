import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCopyCommand,
  AbortMultipartUploadCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from '../../logger.js';
import type { ObjectInfo, ObjectMetadata } from './attributes.js';
import { isNotFound, toFSError } from './errors.js';
import { copySource } from './keys.js';
import type { ObjectParameters } from './upload.js';

/** CopyObject's limit; larger objects are copied part by part. */
export const SINGLE_COPY_LIMIT = 5 * 1024 ** 3;
/** Part size of a multipart copy (S3 allows up to 5 GiB per part). */
const COPY_PART_SIZE = 512 * 1024 ** 2;
/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;

/** An object as HEAD reports it. */
export interface HeadResult extends ObjectInfo {
  etag?: string;
  /** False when S3 says the ETag is not the content's MD5 (KMS or customer-key encryption). */
  etagIsMd5: boolean;
  contentType?: string;
}

/** One page of a delimited listing: objects directly in the prefix, and sub-prefixes. */
export interface ListPage {
  objects: { key: string; size: number; lastModified?: Date; etag?: string }[];
  prefixes: string[];
}

/**
 * The S3 requests S3FS is built from, on one bucket. Errors pass through
 * `toFSError`; "not found" answers are values (undefined/false), not throws.
 */
export class Bucket {
  constructor(
    readonly client: S3Client,
    readonly name: string,
    readonly objectParameters: ObjectParameters,
    private readonly logger: Logger,
  ) {}

  /** HEAD of a key; undefined when there is no such object. */
  async head(key: string, path: string): Promise<HeadResult | undefined> {
    try {
      const result = await this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: key }));
      return {
        size: result.ContentLength ?? 0,
        lastModified: result.LastModified,
        metadata: result.Metadata ?? {},
        etag: result.ETag,
        etagIsMd5: !result.SSECustomerAlgorithm && !(result.ServerSideEncryption ?? '').startsWith('aws:kms'),
        contentType: result.ContentType,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toFSError(error, path);
    }
  }

  /** Whether any key starts with `prefix` (a directory exists, with or without its marker). */
  async hasKeysUnder(prefix: string, path: string, ignoring?: string): Promise<boolean> {
    try {
      const result = await this.client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, MaxKeys: 2 }));
      return (result.Contents ?? []).some((object) => object.Key !== ignoring);
    } catch (error) {
      throw toFSError(error, path);
    }
  }

  /** Lists `prefix` page by page (with `delimiter` '/': one directory level), never holding more than a page. */
  async *list(prefix: string, path: string, delimiter?: string): AsyncGenerator<ListPage> {
    let token: string | undefined;
    do {
      let result;
      try {
        result = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }),
        );
      } catch (error) {
        throw toFSError(error, path);
      }
      yield {
        objects: (result.Contents ?? []).map((object) => ({ key: object.Key!, size: object.Size ?? 0, lastModified: object.LastModified, etag: object.ETag })),
        prefixes: (result.CommonPrefixes ?? []).map((common) => common.Prefix!),
      };
      token = result.IsTruncated ? result.NextContinuationToken : undefined;
    } while (token);
  }

  async put(key: string, body: Buffer, metadata: ObjectMetadata, path: string): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.name, Key: key, Body: body, ContentLength: body.length, Metadata: metadata, ...this.objectParameters }),
      );
    } catch (error) {
      throw toFSError(error, path);
    }
  }

  async delete(key: string, path: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key }));
    } catch (error) {
      throw toFSError(error, path);
    }
  }

  /** Deletes keys in batches of 1000 (one request each). */
  async deleteMany(keys: string[], path: string): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      try {
        const result = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.name, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        );
        const failed = result.Errors?.[0];
        if (failed) throw Object.assign(new Error(failed.Message ?? 'delete failed'), { name: failed.Code ?? 'DeleteFailed' });
      } catch (error) {
        throw toFSError(error, path);
      }
    }
  }

  /**
   * Server-side copy. With `metadata` the copy gets it (REPLACE), else it keeps
   * the source's. Objects over 5 GiB are copied as a multipart upload of ranges.
   */
  async copy(from: string, to: string, size: number, path: string, metadata?: ObjectMetadata, contentType?: string): Promise<void> {
    try {
      if (size > SINGLE_COPY_LIMIT) return await this.copyInParts(from, to, size, path, metadata);
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.name,
          Key: to,
          CopySource: copySource(this.name, from),
          ...(metadata ? { Metadata: metadata, MetadataDirective: 'REPLACE', ContentType: contentType } : {}),
          ...this.objectParameters,
        }),
      );
    } catch (error) {
      throw toFSError(error, path);
    }
  }

  private async copyInParts(from: string, to: string, size: number, path: string, metadata?: ObjectMetadata): Promise<void> {
    if (!metadata) metadata = (await this.head(from, path))?.metadata ?? {};
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.name, Key: to, Metadata: metadata, ...this.objectParameters }));
    const uploadId = created.UploadId;
    try {
      const parts = [];
      for (let start = 0, number = 1; start < size; start += COPY_PART_SIZE, number++) {
        const end = Math.min(start + COPY_PART_SIZE, size) - 1;
        const result = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.name,
            Key: to,
            UploadId: uploadId,
            PartNumber: number,
            CopySource: copySource(this.name, from),
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({ PartNumber: number, ETag: result.CopyPartResult?.ETag });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.name, Key: to, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (error) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.name, Key: to, UploadId: uploadId }))
        .catch((abortError: unknown) => this.logger.warn('could not abort a multipart copy', { key: to, error: toFSError(abortError).message }));
      throw error;
    }
  }
}
