export * from './fs/index.js';
