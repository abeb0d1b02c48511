import { spawn } from 'node:child_process';
import { TEST_USER } from './testServer.js';

export interface SftpBatchResult {
  /** Exit code; null when the client was killed (see `timedOut`). */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

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
  return new Promise((resolve, reject) => {
    const child = spawn('sftp', args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    child.stdin.end(commands.join('\n') + '\n');
  });
}
