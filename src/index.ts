export * from './fs/index.js';
export * from './backends/local.js';
export * from './backends/nodefs.js';
export * from './backends/memory.js';
export * from './logger.js';
export * from './sftp/index.js';
export * from './ssh/index.js';
export * from './backends/webdav/index.js';
