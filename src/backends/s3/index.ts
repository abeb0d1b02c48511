export { S3FS, type S3FSOptions } from './S3FS.js';
export { createS3Client, type S3ConnectionOptions } from './client.js';
export type { Capacity } from './capacity.js';
