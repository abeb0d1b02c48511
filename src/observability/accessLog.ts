import type { Logger } from '../logger.js';
import { StatusCode } from '../sftp/protocol/constants.js';
import { handleCloseChannel, requestChannel, subscribe, type HandleCloseEvent, type RequestEvent, type SessionRef } from './events.js';

/** One access log record: the details of a line whose message is `access`. */
export type AccessRecord = {
  user?: string;
  client?: string;
  /** `download`, `upload`, `list`, `open` (a failed OPEN), or the request name (`remove`, `rename`, `posix-rename@openssh.com`...). */
  op: string;
  path?: string;
  /** Rename's new path, a symlink's target. */
  targetPath?: string;
  /** File data moved (both ways for a file opened read-write). */
  bytes: number;
  /** Entries sent, for `list`. */
  entries?: number;
  /** For a transfer: from OPEN to CLOSE. */
  durationMs: number;
  /** SFTP status name: `OK`, `NO_SUCH_FILE`, `PERMISSION_DENIED`... (`CONNECTION_LOST`: the session ended with the handle open). */
  status: string;
  /** The session ended mid-upload and the backend discarded the partial file. */
  aborted?: true;
};

/** Requests that change the tree: one info line each. */
const changes = new Set([
  'remove', 'mkdir', 'rmdir', 'rename', 'symlink', 'setstat', 'fsetstat',
  'posix-rename@openssh.com', 'hardlink@openssh.com', 'lsetstat@openssh.com', 'copy-data',
]);
/** Per-handle requests: summed up in the handle's line instead (a 1 GiB get is 32,768 READs). */
const perHandle = new Set(['read', 'write', 'readdir', 'close', 'fstat']);

const statusNames: Record<number, string> = Object.fromEntries(Object.entries(StatusCode).map(([name, code]) => [code, name]));

export interface AccessLogOptions {
  /** Log only this server's sessions (default: every server in the process). */
  server?: object;
}

/**
 * Writes an access log through `logger`: one `info` line per transfer
 * (download, upload, at CLOSE, with bytes and duration), per listing, per
 * change (remove, mkdir, rename...) and per failed open or listing; one
 * `debug` line per lookup (stat, realpath, readlink...), failed or not.
 * Fed by the diagnostics channels.
 */
export class AccessLog {
  private readonly unsubscribes: Array<() => void>;

  constructor(private readonly logger: Logger, options: AccessLogOptions = {}) {
    const ours = (session: SessionRef) => options.server === undefined || session.server === options.server;
    this.unsubscribes = [
      subscribe<HandleCloseEvent>(handleCloseChannel, (event) => {
        if (ours(event.session)) this.logger.info('access', handleRecord(event));
      }),
      subscribe<RequestEvent>(requestChannel, (event) => {
        if (!ours(event.session)) return;
        const record = requestRecord(event);
        if (record === undefined) return;
        // A failed stat is routine (clients probe before they upload); a failed open or listing is an access refused.
        if (changes.has(event.op) || record.op === 'open' || record.op === 'list') this.logger.info('access', record);
        else this.logger.debug('access', record);
      }),
    ];
  }

  /** Stops logging. */
  close(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }
}

/** The line of a released handle. */
export function handleRecord(event: HandleCloseEvent): AccessRecord {
  const record: AccessRecord = {
    ...who(event.session),
    op: event.kind === 'directory' ? 'list' : event.write ? 'upload' : 'download',
    path: event.path,
    bytes: event.bytesRead + event.bytesWritten,
    durationMs: roundMs(event.durationMs),
    status: statusName(event.status),
  };
  if (event.kind === 'directory') record.entries = event.entries;
  if (event.aborted) record.aborted = true;
  return record;
}

/** The line of a request, or undefined for one its handle's line covers (and a successful open, logged at close). */
export function requestRecord(event: RequestEvent): AccessRecord | undefined {
  if (perHandle.has(event.op)) return undefined;
  const opened = event.op === 'open' || event.op === 'opendir';
  if (opened && event.status === StatusCode.OK) return undefined;
  const record: AccessRecord = {
    ...who(event.session),
    op: event.op === 'opendir' ? 'list' : event.op,
    path: event.path,
    bytes: event.bytes,
    durationMs: roundMs(event.durationMs),
    status: statusName(event.status),
  };
  if (event.targetPath !== undefined) record.targetPath = event.targetPath;
  return record;
}

function who(session: SessionRef): Pick<AccessRecord, 'user' | 'client'> {
  return { user: session.username, client: session.clientAddress };
}

function statusName(code: number): string {
  return statusNames[code] ?? String(code);
}

/** Microsecond digits are noise in a log line. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
