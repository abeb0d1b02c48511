export { WebDAVFS, type WebDAVFSOptions } from './WebDAVFS.js';
export type { WebDAVConnectionOptions } from './connection.js';
