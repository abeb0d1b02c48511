export * from './BaseSFTPServer.js';
export * from './auth.js';
export * from './hostKeys.js';
export * from './exec.js';
