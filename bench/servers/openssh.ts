import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { BenchEnvironment, BenchServer } from './types.js';
import { freePort, spawnServer, waitForSshBanner } from './process.js';

export const SSHD = '/usr/sbin/sshd';

/** Why OpenSSH cannot be benchmarked here, or undefined when it can. */
export function opensshMissing(): string | undefined {
  return existsSync(SSHD) ? undefined : `${SSHD} is not installed (apt-get install openssh-server)`;
}

/**
 * OpenSSH's sshd with internal-sftp (the same code as sftp-server, in the
 * session process), started in the data directory. Logs in as the current
 * user (root here) with the bench key only. MaxStartups is raised so that the
 * concurrent (W6) and idle-session workloads are not dropped by sshd's
 * protection against unauthenticated connection floods.
 */
export async function startOpenSSH(env: BenchEnvironment): Promise<BenchServer> {
  // sshd refuses to start without its privilege separation directory; the Debian unit creates it.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const configPath = join(env.workDir, 'sshd_config');
  writeFileSync(
    configPath,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${env.hostKeyPath}`,
      'PidFile none',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      `AuthorizedKeysFile ${env.authorizedKeysPath}`,
      `Subsystem sftp internal-sftp -d ${env.dataDir}`,
      'MaxStartups 1000',
      'MaxSessions 100',
      'UseDNS no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const server = spawnServer(SSHD, ['-D', '-e', '-f', configPath]);
  try {
    await waitForSshBanner(port, server.child);
  } catch (error) {
    await server.stop();
    throw new Error(`sshd did not start: ${(error as Error).message}\n${server.stderrTail()}`);
  }
  return {
    name: 'openssh',
    port,
    user: userInfo().username,
    pid: server.child.pid!,
    upload: { remoteDir: 'up-openssh', hostDir: join(env.dataDir, 'up-openssh'), storage: 'disk' },
    stop: () => server.stop(),
  };
}

/** W8 for OpenSSH: the same sshd, uploading to a directory on tmpfs (/dev/shm), its closest thing to a memory backend. */
export function opensshTmpfsTarget(main: BenchServer, tmpfsDir: string): BenchServer {
  return { ...main, upload: { remoteDir: tmpfsDir, hostDir: tmpfsDir, storage: 'tmpfs' }, stop: async () => {} };
}
