import { spawn } from 'node:child_process';
import type { BenchServer } from './servers/types.js';

/** The cipher every run uses, so servers are compared on the same transport cost. */
export const CIPHER = 'aes128-gcm@openssh.com';
/**
 * The key exchange every run uses. Unpinned, OpenSSH 9.x picks the
 * post-quantum sntrup761x25519 with sshd (about 0.1-0.2 s more per connection
 * on a small machine) and curve25519 with servers that lack it, which would
 * charge sshd for its kex rather than for its SFTP.
 */
export const KEX = 'curve25519-sha256';

export interface SftpRun {
  /** Wall time of the whole client process: connect, key exchange, auth, the batch, exit. */
  seconds: number;
  stdout: string;
}

/**
 * Runs OpenSSH's `sftp` in batch mode against a server and times it. A
 * failing command fails the batch (no `-` prefixes), and a non-zero exit is
 * thrown: a benchmark of a transfer that did not happen is worthless.
 */
export function runSftp(server: BenchServer, keyPath: string, commands: readonly string[], cwd?: string, timeoutMs = 30 * 60_000): Promise<SftpRun> {
  const args = [
    '-q',
    '-b', '-',
    '-F', '/dev/null',
    '-P', String(server.port),
    '-i', keyPath,
    '-o', `Ciphers=${CIPHER}`,
    '-o', `KexAlgorithms=${KEX}`,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
    `${server.user}@127.0.0.1`,
  ];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('sftp', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`sftp against ${server.name} failed (${signal ?? `exit ${code}`}) running ${JSON.stringify(commands)}: ${stderr.trim().slice(-2000)}`));
        return;
      }
      resolve({ seconds, stdout: Buffer.concat(stdout).toString('utf8') });
    });
    child.stdin.end(commands.join('\n') + '\n');
  });
}
