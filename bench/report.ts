import type { MachineDescription } from './machine.js';
import { SERVER_NAMES, type BenchOptions, type ServerName, type WorkloadId } from './options.js';
import type { S3Result } from './s3Report.js';
import type { MetricId } from './workloads.js';

/** Every value measured: metric → server → one value per round. */
export type Samples = Partial<Record<MetricId, Partial<Record<ServerName, number[]>>>>;

/** CPU seconds stolen by the hypervisor during each round: workload → server → one value per round. */
export type StolenCpu = Partial<Record<WorkloadId, Partial<Record<ServerName, number[]>>>>;

interface MetricSpec {
  id: MetricId;
  label: string;
  unit: 's' | 'MiB' | 'KiB';
}

const METRICS: readonly MetricSpec[] = [
  { id: 'W1', label: 'W1 get big file', unit: 's' },
  { id: 'W1rss', label: 'W1 peak RSS', unit: 'MiB' },
  { id: 'W2', label: 'W2 put big file (disk)', unit: 's' },
  { id: 'W2rss', label: 'W2 peak RSS', unit: 'MiB' },
  { id: 'W3', label: 'W3 put -r small files', unit: 's' },
  { id: 'W4', label: 'W4 get -r small files', unit: 's' },
  { id: 'W5', label: 'W5 ls -l', unit: 's' },
  { id: 'W6', label: 'W6 concurrent gets', unit: 's' },
  { id: 'W7', label: 'W7 peak RSS during W6', unit: 'MiB' },
  { id: 'W7pss', label: 'W7 peak PSS during W6', unit: 'MiB' },
  { id: 'W8', label: 'W8 put big file (memory / tmpfs)', unit: 's' },
  { id: 'W8rss', label: 'W8 peak RSS (memory: includes the stored file)', unit: 'MiB' },
  { id: 'W9', label: 'W9 concurrent gets during a big put', unit: 's' },
  { id: 'W9put', label: 'W9 the big put meanwhile', unit: 's' },
  { id: 'IDLE', label: 'idle session RSS each', unit: 'KiB' },
  { id: 'IDLEpss', label: 'idle session PSS each', unit: 'KiB' },
];

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function scale(value: number, unit: MetricSpec['unit']): number {
  return unit === 'MiB' ? value / 1024 ** 2 : unit === 'KiB' ? value / 1024 : value;
}

export interface MetricResult {
  id: MetricId;
  label: string;
  unit: string;
  /** Median per server, in `unit`. */
  medians: Partial<Record<ServerName, number>>;
  /** Per server, every round, in `unit`. */
  rounds: Partial<Record<ServerName, number[]>>;
  /** Other server's median / ours: > 1 means sftp-expose is faster (or smaller). */
  opensshOverOurs?: number;
  rcloneOverOurs?: number;
}

export function summarise(samples: Samples): MetricResult[] {
  const results: MetricResult[] = [];
  for (const spec of METRICS) {
    const byServer = samples[spec.id];
    if (!byServer) continue;
    const result: MetricResult = { id: spec.id, label: spec.label, unit: spec.unit, medians: {}, rounds: {} };
    for (const [server, values] of Object.entries(byServer) as [ServerName, number[]][]) {
      if (values.length === 0) continue;
      result.rounds[server] = values.map((v) => scale(v, spec.unit));
      result.medians[server] = scale(median(values), spec.unit);
    }
    const ours = result.medians['sftp-expose'];
    if (ours !== undefined && ours > 0) {
      if (result.medians.openssh !== undefined) result.opensshOverOurs = result.medians.openssh / ours;
      if (result.medians.rclone !== undefined) result.rcloneOverOurs = result.medians.rclone / ours;
    }
    results.push(result);
  }
  return results;
}

function cell(value: number | undefined, digits = 2): string {
  return value === undefined ? 'n/a' : value.toFixed(digits);
}

/** The markdown table of medians, one row per metric, and W6's aggregate throughput. */
export function markdownTable(results: readonly MetricResult[], options: BenchOptions): string {
  const rows = [
    '| workload | unit | OpenSSH | rclone | sftp-expose | OpenSSH / ours | rclone / ours |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const digits = r.unit === 's' ? 2 : r.unit === 'MiB' ? 1 : 0;
    rows.push(
      `| ${r.label} | ${r.unit} | ${cell(r.medians.openssh, digits)} | ${cell(r.medians.rclone, digits)} | ${cell(r.medians['sftp-expose'], digits)} | ${cell(r.opensshOverOurs)} | ${cell(r.rcloneOverOurs)} |`,
    );
    if (r.id === 'W6') {
      const total = (options.clients * options.clientSize) / 1024 ** 2;
      const rate = (seconds: number | undefined) => (seconds === undefined ? undefined : total / seconds);
      rows.push(
        `| W6 aggregate throughput | MiB/s | ${cell(rate(r.medians.openssh), 0)} | ${cell(rate(r.medians.rclone), 0)} | ${cell(rate(r.medians['sftp-expose']), 0)} | | |`,
      );
    }
  }
  return rows.join('\n');
}

/**
 * The median CPU seconds stolen during each server's rounds of each workload:
 * where one server's rounds lost more, its times say more about the host.
 */
export function stolenCpuTable(stolen: StolenCpu): string {
  const rows = ['| CPU stolen by the hypervisor during the rounds (s, median) | OpenSSH | rclone | sftp-expose |', '|---|---:|---:|---:|'];
  for (const [workload, byServer] of Object.entries(stolen) as [WorkloadId, Partial<Record<ServerName, number[]>>][]) {
    const medianOf = (server: ServerName) => {
      const values = byServer[server];
      return values && values.length > 0 ? median(values) : undefined;
    };
    rows.push(`| ${workload} | ${SERVER_NAMES.map((server) => cell(medianOf(server))).join(' | ')} |`);
  }
  return rows.join('\n');
}

/**
 * The warm-up rounds, each server's time with the CPU stolen during it in
 * brackets: kept out of the medians, shown so that a first round's cost
 * stays visible.
 */
export function warmUpTable(results: readonly MetricResult[], stolen: StolenCpu): string {
  const rows = ['| warm-up rounds (s, not in the medians; CPU stolen in brackets) | OpenSSH | rclone | sftp-expose |', '|---|---|---|---|'];
  for (const r of results) {
    const shown = (server: ServerName) => {
      const steals = stolen[r.id as WorkloadId]?.[server] ?? [];
      return r.rounds[server]?.map((value, i) => `${cell(value)} (${cell(steals[i], 1)})`).join(' / ') ?? 'n/a';
    };
    rows.push(`| ${r.label} | ${SERVER_NAMES.map(shown).join(' | ')} |`);
  }
  return rows.join('\n');
}

export interface BenchReport {
  date: string;
  machine: MachineDescription;
  options: BenchOptions;
  servers: string[];
  notes: string[];
  results: MetricResult[];
  /** CPU seconds the hypervisor stole during each round (see stolenCpuSeconds in procfs.ts). */
  stolenCpu: StolenCpu;
  /** The untimed warm-up rounds of the small-file workloads (--warm-up-rounds), kept out of `results`. */
  warmUp: { results: MetricResult[]; stolenCpu: StolenCpu };
  /** The S3 workload's results, when it ran. */
  s3?: S3Result;
}
