import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { testHostKeyPath } from './keys.js';
import { makeTempDir } from './tempDir.js';

export const SSHD = '/usr/sbin/sshd';

export interface RunningSshd {
  port: number;
  /** The user to log in as: whoever runs the tests (root in CI). */
  user: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Resolves once the port answers with an SSH banner; rejects if sshd exits or takes over 10 s. */
async function waitForBanner(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}): ${stderr()}`);
    const banner = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('SSH-'));
      });
      socket.once('error', () => resolve(false));
    });
    if (banner) return;
    if (Date.now() > deadline) throw new Error(`sshd did not answer on port ${port}: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A real OpenSSH sshd on 127.0.0.1 for tests, accepting only the keys in
 * `authorizedKeysPath`, with `subsystem` as its sftp subsystem line (e.g.
 * `internal-sftp`, or a command line running our `--stdio` mode).
 */
export async function startSshd(options: { authorizedKeysPath: string; subsystem: string }): Promise<RunningSshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is not installed`);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation dir; Debian's unit makes it
  const dir = makeTempDir('sftp-expose-sshd-');
  const port = await freePort();
  const config = join(dir.path, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${testHostKeyPath()}`, 'PidFile none', 'UsePAM no',
    'StrictModes no', 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', `AuthorizedKeysFile ${options.authorizedKeysPath}`,
    `Subsystem sftp ${options.subsystem}`, 'UseDNS no', 'LogLevel ERROR', '',
  ].join('\n'));
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    dir.remove();
  };
  try {
    await waitForBanner(port, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, user: process.env.USER || 'root', stop };
}
