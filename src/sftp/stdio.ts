import type { Readable, Writable } from 'node:stream';
import type { FS } from '../fs/FS.js';
import type { Logger } from '../logger.js';
import type { SessionLimits } from './limits.js';
import { Session } from './Session.js';
import { SFTPServerInterface } from './SFTPServerInterface.js';

export interface StdioServeOptions {
  /** Where relative paths start (the user's home, as sshd sets the subsystem's working directory). */
  home?: string;
  logger?: Logger;
  limits?: Partial<SessionLimits>;
  input?: Readable;
  output?: Writable;
}

/** How a session over stdin/stdout ended. */
export interface StdioSessionEnd {
  reason: string;
  /** For the process to exit with, as OpenSSH's sftp-server does: 0 when the client closed its side (or the server ended the session), non-zero when it broke the protocol. */
  exitStatus: number;
}

/**
 * Serves one SFTP session over stdin/stdout — the way sshd runs a
 * `Subsystem sftp` program and `sftp -D` runs a server — with the same
 * Session as over SSH. Resolves when the client has gone and every handle is
 * released. Nothing but SFTP may be written to stdout meanwhile: logs go to stderr.
 */
export function serveStdio(fs: FS, options: StdioServeOptions = {}): Promise<StdioSessionEnd> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  let exitStatus = 0;
  const close = (status?: number) => {
    exitStatus = status ?? 0;
    output.end();
  };
  const session = new Session(
    // process.stdout has written a chunk when it calls back; a caller's stream may not have.
    { readable: input, writable: output, close, copiesOnWrite: output === process.stdout },
    new SFTPServerInterface(fs, { home: options.home }),
    { logger: options.logger, limits: options.limits },
  );
  return new Promise((resolve) => session.once('close', (reason: string) => resolve({ reason, exitStatus })));
}
