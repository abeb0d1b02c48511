// Everything; `sftp-expose/core` (src/core.ts) is the part without the large dependencies.
export * from './core.js';
export * from './backends/webdav/index.js';
export * from './backends/s3/index.js';
export * from './server/MultiUserServer.js';
export * from './server/config/loadConfig.js';
export * from './server/auth/passwordHash.js';
export * from './server/auth/authProxy.js';
export * from './observability/index.js';
