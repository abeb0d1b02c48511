/**
 * Events for embedders, on `node:diagnostics_channel`. Subscribe by name:
 *
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel';
 * diagnostics_channel.subscribe('sftp-expose:request', (message) => {
 *   const event = message as RequestEvent;
 *   console.log(event.session.username, event.op, event.path, event.status, event.durationMs);
 * });
 * ```
 *
 * Publishers check `hasSubscribers` first, so with nobody listening a request
 * costs one property read. The access log and the Prometheus metrics are
 * themselves subscribers of these channels. Messages are published
 * synchronously on the server's thread: a subscriber must be quick and must
 * not throw (diagnostics_channel reports a throwing subscriber as an
 * uncaught exception).
 */
import diagnostics_channel from 'node:diagnostics_channel';

/** The channel names, stable across versions (see docs/operations.md). */
export const channelNames = {
  sessionStart: 'sftp-expose:session:start',
  sessionEnd: 'sftp-expose:session:end',
  auth: 'sftp-expose:auth',
  request: 'sftp-expose:request',
  dataRequest: 'sftp-expose:request:data',
  handleClose: 'sftp-expose:handle:close',
  ban: 'sftp-expose:ban',
  syncCalls: 'sftp-expose:sync-calls',
} as const;

/**
 * Who a session belongs to. One object per SFTP session, shared by all of
 * its events (compare by `id`, or by identity). Sessions over stdin/stdout
 * have no user or address.
 */
export interface SessionRef {
  /** Unique within the process. */
  readonly id: number;
  /** The BaseSFTPServer that runs the session (to tell several servers in one process apart). */
  readonly server?: object;
  readonly username?: string;
  readonly clientAddress?: string;
  readonly clientPort?: number;
}

/** `sftp-expose:session:start`: an SFTP subsystem started for an authenticated user. */
export interface SessionStartEvent {
  session: SessionRef;
  /** Auth methods that succeeded, in order. */
  authMethods: readonly string[];
}

/** `sftp-expose:session:end`: the session ended and released its handles. */
export interface SessionEndEvent {
  session: SessionRef;
  reason: string;
  durationMs: number;
}

/** `sftp-expose:auth`: one authentication request was decided (`none` probes included). */
export interface AuthEvent {
  server: object;
  username: string;
  clientAddress: string;
  clientPort: number;
  method: string;
  /** `partial`: this factor passed, another is required. */
  result: 'success' | 'partial' | 'failure';
}

/**
 * `sftp-expose:request`: one SFTP request was answered. Every request,
 * READ and WRITE included: tens of thousands per gigabyte.
 */
export interface RequestEvent {
  session: SessionRef;
  /** Lower-case request name (`open`, `read`, `remove`...) or the extension name (`posix-rename@openssh.com`); `extended` for one not on offer. */
  op: string;
  /** The path named, or the path the handle was opened with; undefined when neither applies. */
  path?: string;
  /** Rename's new path (also posix-rename's and hardlink's second path); a symlink's target (`path` is the link). */
  targetPath?: string;
  /** Data bytes carried: read for READ, written for WRITE, 0 otherwise. */
  bytes: number;
  /** From the request being dispatched to its reply being queued. */
  durationMs: number;
  /** SFTP status code of the reply; 0 (OK) for a HANDLE, DATA, NAME or ATTRS reply. */
  status: number;
}

/** `sftp-expose:handle:close`: a file or directory handle was released: one transfer or listing. */
export interface HandleCloseEvent {
  session: SessionRef;
  kind: 'file' | 'directory';
  path: string;
  /** Open flags of a file (both false for a directory). */
  read: boolean;
  write: boolean;
  bytesRead: number;
  bytesWritten: number;
  /** Directory entries listed (0 for a file). */
  entries: number;
  /** From OPEN/OPENDIR to the release. */
  durationMs: number;
  /** SFTP status of the CLOSE; 7 (CONNECTION_LOST) when the session ended with the handle open. */
  status: number;
  /** The session ended with the file open for writing and the backend discarded the partial upload. */
  aborted: boolean;
}

/** `sftp-expose:ban`: a source address was banned (published by the brute-force defence). */
export interface BanEvent {
  clientAddress: string;
  /** How long the ban lasts. */
  durationMs?: number;
  /** Failed authentications that led to it. */
  failures?: number;
  server?: object;
}

/**
 * `sftp-expose:sync-calls`: a local-disk backend turned its synchronous fs
 * calls off (storage answered slowly: NFS, FUSE, a cold or busy disk) or
 * back on (see src/backends/nodefs/syncGuard.ts). Rare: a log line each.
 */
export interface SyncCallsEvent {
  /** Which calls: metadata (open, stat, mkdir...) or data (small reads and writes). */
  calls: 'metadata' | 'data';
  enabled: boolean;
  /** Times these calls have been turned off so far (each makes the way back longer). */
  timesTurnedOff: number;
}

export const sessionStartChannel = diagnostics_channel.channel(channelNames.sessionStart);
export const sessionEndChannel = diagnostics_channel.channel(channelNames.sessionEnd);
export const authChannel = diagnostics_channel.channel(channelNames.auth);
/** Every answered request but READ and WRITE (the access log's feed: nothing per 32 KiB block). */
export const requestChannel = diagnostics_channel.channel(channelNames.request);
/** Answered READs and WRITEs, one per block: only what needs per-block detail (metrics) subscribes. */
export const dataRequestChannel = diagnostics_channel.channel(channelNames.dataRequest);
export const handleCloseChannel = diagnostics_channel.channel(channelNames.handleClose);
export const banChannel = diagnostics_channel.channel(channelNames.ban);
export const syncCallsChannel = diagnostics_channel.channel(channelNames.syncCalls);

/** Announces a ban (counted by the metrics as `sftp_expose_bans_total`). */
export function publishBan(event: BanEvent): void {
  if (banChannel.hasSubscribers) banChannel.publish(event);
}

let lastSessionId = 0;

/** A fresh SessionRef with a process-unique id. */
export function newSessionRef(details: Omit<SessionRef, 'id'> = {}): SessionRef {
  return { id: ++lastSessionId, ...details };
}

/** Subscribes `handler` to a channel; returns the unsubscribe function. */
export function subscribe<T>(channel: diagnostics_channel.Channel, handler: (event: T) => void): () => void {
  const listener = (message: unknown) => handler(message as T);
  channel.subscribe(listener);
  return () => channel.unsubscribe(listener);
}
