export * from './fs/index.js';
export * from './backends/local.js';
export * from './backends/nodefs.js';
export * from './backends/memory.js';
