/**
 * `sftp-expose/core`: what a server over the local disk, memory or a
 * filesystem of one's own needs — the FS and its errors, the local, Node-fs
 * and memory backends, the SFTP session, the SSH server with its auth hooks
 * and defences, and the SFTP-client backend (ssh2 is loaded anyway). It
 * leaves out what pulls in large packages at import: the S3 and WebDAV
 * backends (the AWS SDK, webdav), the multi-user server (YAML, argon2) and
 * metrics (prom-client). Importing it takes about a third of the time and
 * 40 MiB less memory than `sftp-expose`, which exports all of this too.
 */
export * from './fs/index.js';
export * from './backends/local.js';
export * from './backends/nodefs.js';
export * from './backends/memory.js';
export * from './backends/sftp/SFTPFS.js';
export * from './fs/wrappers/permissions.js';
export * from './logger.js';
export * from './sftp/index.js';
export * from './ssh/index.js';
export * from './server/auth/authorizedKeys.js';
export * from './server/auth/totp.js';
export * from './server/defence/index.js';
