export * from './FS.js';
export * from './errors.js';
export * from './path.js';
export * from './types.js';
export * from './wrappers/readonly.js';
export * from './wrappers/sub.js';
export * from './wrappers/mount.js';
export * from './wrappers/throttled.js';
