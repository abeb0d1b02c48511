import type { Duplex, Writable } from 'node:stream';
import type { FS } from '../fs/FS.js';
import { silentLogger, type Logger } from '../logger.js';
import { dfCommand } from './exec/df.js';
import { hashsumCommand } from './exec/hashsum.js';
import { scpCommand } from './exec/scp.js';
import { parseShellWords, ShellSyntaxError } from './exec/shellWords.js';
import { errorText, type ExecCommands, type ExecContext } from './exec/types.js';

export { dfCommand, dfRow, formatDfTable, type DfRow } from './exec/df.js';
export { hashLine, hashsumCommand } from './exec/hashsum.js';
export { scpCommand } from './exec/scp.js';
export { parseShellWords, ShellSyntaxError } from './exec/shellWords.js';
export { quoteName } from './exec/quoteName.js';
export { errorText, type ExecCommand, type ExecCommands, type ExecContext } from './exec/types.js';

/** The prefix of messages that come from the server itself, not from a command. */
const SERVER_NAME = 'sftp-expose';

/**
 * The commands answered by default: what the rclone sftp backend (and
 * scripts written for an OpenSSH server) run for checksums and free space,
 * and the remote end of classic scp (`scp -O`, and scp before OpenSSH 9).
 */
export function defaultExecCommands(): ExecCommands {
  return new Map([
    ['md5sum', hashsumCommand('md5sum', 'md5')],
    ['sha1sum', hashsumCommand('sha1sum', 'sha1')],
    ['sha256sum', hashsumCommand('sha256sum', 'sha256')],
    ['sha512sum', hashsumCommand('sha512sum', 'sha512')],
    ['df', dfCommand],
    ['scp', scpCommand],
  ]);
}

/** The channel an exec request runs on: ssh2's ServerChannel fits. */
export interface ExecChannel extends Duplex {
  readonly stderr: Writable;
  exit(status: number): void;
}

export interface RunExecOptions {
  fs: FS;
  /** Resolves path arguments (the session's SFTPServerInterface.resolve, so both agree). */
  resolve(path: string): string;
  commands: ExecCommands;
  logger?: Logger;
  /** Logged with the command. */
  username?: string;
}

/**
 * Runs one exec request: splits the command line into words (never through a
 * shell; see parseShellWords), runs the named command from `commands`, then
 * sends its exit status and closes the channel. Anything else (unknown
 * commands, shell syntax) gets a message on stderr and status 1.
 * Resolves with the exit status.
 */
export async function runExecCommand(commandLine: string, channel: ExecChannel, options: RunExecOptions): Promise<number> {
  const logger = options.logger ?? silentLogger;
  const context: ExecContext = { fs: options.fs, resolve: options.resolve, stdin: channel, stdout: channel, stderr: channel.stderr };
  let status: number;
  try {
    status = await dispatch(commandLine, context, options.commands);
  } catch (error) {
    logger.warn('exec command failed', { username: options.username, command: commandLine, error });
    channel.stderr.write(`${SERVER_NAME}: ${errorText(error)}\n`);
    status = 1;
  }
  logger.info('exec', { username: options.username, command: commandLine, status });
  await finish(channel, status);
  return status;
}

async function dispatch(commandLine: string, context: ExecContext, commands: ExecCommands): Promise<number> {
  let words: string[];
  try {
    words = parseShellWords(commandLine);
  } catch (error) {
    if (!(error instanceof ShellSyntaxError)) throw error;
    context.stderr.write(`${SERVER_NAME}: ${error.message}\n`);
    return 1;
  }
  const [name, ...args] = words;
  if (name === undefined) return 0; // an empty command line does nothing, as in a shell
  const command = commands.get(name);
  if (!command) {
    context.stderr.write(`${SERVER_NAME}: command not supported: ${name}\n`);
    return 1;
  }
  return command(args, context);
}

/**
 * Answers a `shell` request the way OpenSSH does with ForceCommand
 * internal-sftp: a message and status 1, no shell.
 */
export function refuseShell(channel: ExecChannel): Promise<void> {
  return refuseExec(channel, 'interactive shells are not supported; this server offers SFTP and a few exec commands');
}

/** Ends an exec or shell channel with `message` on stderr and status 1 (e.g. when the user's FS cannot be had). */
export async function refuseExec(channel: ExecChannel, message: string): Promise<void> {
  if (!channel.destroyed && channel.stderr.writable) channel.stderr.write(`${SERVER_NAME}: ${message}\n`);
  await finish(channel, 1);
}

/** Exit status after stdout has drained, then EOF and close: clients read all output before the channel goes. */
async function finish(channel: ExecChannel, status: number): Promise<void> {
  if (channel.destroyed || !channel.writable) return;
  if (channel.writableNeedDrain) {
    await new Promise<void>((resolve) => {
      channel.once('drain', resolve).once('close', resolve);
    });
  }
  if (channel.destroyed || !channel.writable) return;
  channel.exit(status);
  channel.end();
}
