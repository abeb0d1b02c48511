import { runProcess, type ProcessResult } from './runProcess.js';
import { TEST_USER } from './testServer.js';

export type SftpBatchResult = ProcessResult;

export interface SftpBatchOptions {
  /** Local directory the client starts in (where `put`/`get` find and leave files). */
  cwd?: string;
  user?: string;
  /** Kill the client after this long (default 60 s). */
  timeoutMs?: number;
}

/**
 * Runs OpenSSH's `sftp` in batch mode against 127.0.0.1:port with one key and
 * no host key checks. As in any batch, a failing command ends the batch with a
 * non-zero code unless it starts with `-`.
 */
export function runSftpBatch(port: number, keyPath: string, commands: readonly string[], options: SftpBatchOptions = {}): Promise<SftpBatchResult> {
  const args = [
    '-b', '-',
    '-F', '/dev/null',
    '-P', String(port),
    '-i', keyPath,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
    `${options.user ?? TEST_USER}@127.0.0.1`,
  ];
  return runProcess('sftp', args, { cwd: options.cwd, input: commands.join('\n') + '\n', timeoutMs: options.timeoutMs });
}
