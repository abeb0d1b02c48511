import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { LocalFS } from '../backends/local.js';
import { MemoryFS } from '../backends/memory.js';
import type { FS } from '../fs/FS.js';
import type { Logger } from '../logger.js';
import { UsageError, expandHome } from './serveOptions.js';

/** What a backend may use while it is being opened. */
export interface BackendContext {
  logger: Logger;
  /** The command line's flags, for backend-specific ones (`webdav-user`...); absent: none given. */
  flags?: Readonly<Record<string, string | boolean | string[] | undefined>>;
}

/**
 * One kind of BACKEND argument, chosen by its URL scheme. A new backend adds a
 * row to {@link backendSchemes}; nothing else in the CLI changes.
 */
export interface BackendScheme {
  /** The scheme without its colon, e.g. `memory`, `s3`, `webdav+https`. */
  scheme: string;
  /** An example BACKEND and what it serves, for `--help`. */
  example: string;
  description: string;
  /** Opens the FS for `spec`, the whole BACKEND argument (scheme included). Throws UsageError for a bad spec. */
  open(spec: string, context: BackendContext): Promise<FS>;
  /**
   * Each SFTP session gets an FS of its own (opened at login, closed when it
   * ends) rather than sharing one: a proxy keeps one upstream connection per session.
   */
  connectionPerSession?: boolean;
}

/**
 * Remote backends are imported when used: their SDKs take about a second to
 * load, which every `--stdio` session (one process per login under sshd) and
 * every plain start would otherwise pay.
 */
export const backendSchemes: readonly BackendScheme[] = [
  {
    scheme: 'memory',
    example: 'memory:',
    description: 'an empty in-memory filesystem, gone when the server stops (the default)',
    async open(spec) {
      if (spec.toLowerCase() !== 'memory:') throw new UsageError(`invalid memory backend "${spec}": write just memory:`);
      return new MemoryFS();
    },
  },
  {
    scheme: 'webdav+https',
    example: 'webdav+https://host/path',
    description: 'a WebDAV server over HTTPS (--webdav-user/--webdav-pass or --webdav-bearer-token)',
    open: async (spec, context) => (await import('./webdavBackend.js')).openWebDAVBackend(spec, context.flags ?? {}),
  },
  {
    scheme: 'webdav+http',
    example: 'webdav+http://host/path',
    description: 'a WebDAV server over plain HTTP (credentials travel unencrypted)',
    open: async (spec, context) => (await import('./webdavBackend.js')).openWebDAVBackend(spec, context.flags ?? {}),
  },
  {
    scheme: 'sftp',
    example: 'sftp://user@host:port/path',
    description: 'another SFTP server, proxied (--sftp-key-file/--sftp-pass, host key from --sftp-known-hosts-file)',
    connectionPerSession: true,
    open: async (spec, context) => (await import('./sftpBackend.js')).openSftpBackend(spec, context.flags ?? {}, context.logger),
  },
  {
    scheme: 's3',
    example: 's3://bucket/prefix',
    description: 'an S3 bucket (AWS or compatible: --s3-endpoint, --s3-region; keys from --s3-access-key-id or the AWS env)',
    open: async (spec, context) => (await import('./s3Backend.js')).openS3Backend(spec, context.flags ?? {}, context.logger),
  },
];

/** The pseudo-scheme of a plain path: listed in help, never matched by a prefix. */
const localFolder = {
  example: './some/folder',
  description: 'a folder of the local disk (must exist), which clients see as /',
};

/**
 * `scheme:` at the start of a BACKEND. A URL-like spec (`x://...`) with an
 * unknown scheme is an error rather than a folder name: it is surely a typo
 * or a backend this version lacks. A folder whose name has a colon is still
 * reachable as `./name:with:colons`.
 */
const SCHEME_PATTERN = /^([a-z][a-z0-9+.-]*):/i;

/**
 * Turns a BACKEND argument into an FS: omitted means memory, a known
 * `scheme:` picks that backend, anything else is a local folder.
 */
export async function openBackend(spec: string | undefined, context: BackendContext): Promise<FS> {
  if (spec === undefined || spec === '') return backendSchemes[0]!.open('memory:', context);
  const scheme = SCHEME_PATTERN.exec(spec)?.[1]?.toLowerCase();
  const row = schemeRow(spec);
  if (row) return row.open(spec, context);
  if (scheme !== undefined && spec.slice(scheme.length + 1).startsWith('//')) {
    throw new UsageError(`unknown backend "${scheme}:" in ${spec}: known are ${backendSchemes.map((s) => `${s.scheme}:`).join(', ')} and local folders`);
  }
  return openLocalFolder(spec, context.flags?.['atomic-uploads'] === true);
}

function schemeRow(spec: string): BackendScheme | undefined {
  const scheme = SCHEME_PATTERN.exec(spec)?.[1]?.toLowerCase();
  return backendSchemes.find((candidate) => candidate.scheme === scheme);
}

/** Whether BACKEND wants an FS per session (see {@link BackendScheme.connectionPerSession}). */
export function needsFSPerSession(spec: string | undefined): boolean {
  return spec !== undefined && schemeRow(spec)?.connectionPerSession === true;
}

function openLocalFolder(spec: string, atomicUploads: boolean): FS {
  const folder = resolve(expandHome(spec));
  let isDirectory: boolean;
  try {
    isDirectory = statSync(folder).isDirectory();
  } catch {
    throw new UsageError(`backend folder not found: ${spec}`);
  }
  if (!isDirectory) throw new UsageError(`backend is not a folder: ${spec}`);
  return new LocalFS({ root: folder, atomicUploads });
}

/** The BACKEND section of `--help`, generated from the table so it never goes stale. */
export function describeBackends(): string {
  const rows = [...backendSchemes, localFolder].map((row) => `  ${row.example.padEnd(16)} ${row.description}`);
  return `Backends:\n${rows.join('\n')}`;
}
