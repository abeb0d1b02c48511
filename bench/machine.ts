import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';

/** What the numbers were measured on; printed with every report. */
export interface MachineDescription {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  openssh: string;
  rclone: string;
}

function firstLine(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) return 'not installed';
  return `${result.stdout}${result.stderr}`.split('\n')[0]!.trim();
}

export function describeMachine(): MachineDescription {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    cpus: cpus().length,
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    node: process.version,
    // `sshd -V` is not an option on every version; an invalid flag still prints the version line on 9.x.
    openssh: firstLine('ssh', ['-V']),
    rclone: firstLine('rclone', ['version']),
  };
}
