import type { Readable, Writable } from 'node:stream';
import type { FS } from '../../fs/FS.js';
import { FSError } from '../../fs/errors.js';

/** What an exec command can reach: the user's filesystem and the channel's three streams. */
export interface ExecContext {
  fs: FS;
  /** Resolves a path argument against the user's home, exactly as SFTP paths are. */
  resolve(path: string): string;
  /** What the client sends; ends when the client sends EOF. */
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

/**
 * One command: gets its arguments (after the command name, already unquoted)
 * and returns its exit status. It writes its own output and error messages;
 * a thrown error becomes a message on stderr and status 1.
 */
export type ExecCommand = (args: string[], context: ExecContext) => Promise<number>;

/** The commands a server answers, by name. A subclass adds, replaces or deletes entries. */
export type ExecCommands = Map<string, ExecCommand>;

/** An error as coreutils prints it after `cmd: path: ` (strerror text, without our path suffix). */
export function errorText(error: unknown): string {
  if (error instanceof FSError && error.path !== undefined && error.message.endsWith(`: ${error.path}`)) {
    return error.message.slice(0, -(error.path.length + 2));
  }
  return error instanceof Error ? error.message : String(error);
}
