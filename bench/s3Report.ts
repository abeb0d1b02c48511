import { median } from './report.js';

/** Every value the S3 workload measured, one per round; seconds and bytes. */
export interface S3Samples {
  /** How sftp-expose ran: bench/s3Server.ts over the built library, or the built CLI. */
  server: 'library' | 'cli';
  /** Bytes moved by each put and each get. */
  size: number;
  sftpPut: number[];
  directPut: number[];
  sftpGet: number[];
  directGet: number[];
  /** rclone serve sftp over the same bucket, when rclone is installed and not left out by --servers; else empty. */
  rclonePut: number[];
  rcloneGet: number[];
  /** An sftp run that moves nothing (`pwd`): connect, key exchange, auth, exit. */
  sftpSession: number[];
  /** sftp-expose's RSS after its warm-up login, before any transfer. */
  idleRss: number;
  /** sftp-expose's peak RSS (the kernel's VmHWM, reset before each transfer) during each put and each get. */
  putRss: number[];
  getRss: number[];
  /** sftp-expose's VmHWM at the end: the highest RSS it had over the whole workload. */
  highWaterMark: number;
}

/** Issue 5's targets. */
export const S3_TARGETS = { throughputRatio: 0.8, peakRssMiB: 256 } as const;

export interface S3Result {
  sizeMiB: number;
  put: S3Comparison;
  get: S3Comparison;
  sftpSessionSeconds: number;
  /** Median and maximum over the rounds of the sampled peak, and the kernel's lifetime peak, in MiB. */
  putPeakRssMiB: { median: number; max: number };
  getPeakRssMiB: { median: number; max: number };
  highWaterMarkMiB: number;
  idleRssMiB: number;
  samples: S3Samples;
}

export interface S3Comparison {
  /** Median seconds. */
  sftpExpose: number;
  direct: number;
  /** MiB/s from the medians. */
  sftpExposeMiBps: number;
  directMiBps: number;
  /** Our throughput / the direct SDK's: >= 0.8 is issue 5's target. */
  ratio: number;
  /** rclone serve sftp over the same bucket: median seconds, and its time / ours (> 1: we are faster); absent when not run. */
  rclone?: { seconds: number; ratio: number };
}

const MiB = 1024 * 1024;

function compare(size: number, ours: number[], direct: number[], rclone: number[]): S3Comparison {
  const sftpExpose = median(ours);
  const directSeconds = median(direct);
  return {
    sftpExpose,
    direct: directSeconds,
    sftpExposeMiBps: size / MiB / sftpExpose,
    directMiBps: size / MiB / directSeconds,
    ratio: directSeconds / sftpExpose,
    ...(rclone.length > 0 && { rclone: { seconds: median(rclone), ratio: median(rclone) / sftpExpose } }),
  };
}

export function summariseS3(samples: S3Samples): S3Result {
  const memory = (values: number[]) => ({ median: median(values) / MiB, max: Math.max(...values) / MiB });
  return {
    sizeMiB: samples.size / MiB,
    put: compare(samples.size, samples.sftpPut, samples.directPut, samples.rclonePut),
    get: compare(samples.size, samples.sftpGet, samples.directGet, samples.rcloneGet),
    sftpSessionSeconds: median(samples.sftpSession),
    putPeakRssMiB: memory(samples.putRss),
    getPeakRssMiB: memory(samples.getRss),
    highWaterMarkMiB: samples.highWaterMark / MiB,
    idleRssMiB: samples.idleRss / MiB,
    samples,
  };
}

function verdict(met: boolean): string {
  return met ? 'met' : '**not met**';
}

/** The S3 table: medians, throughput, ratio against the direct SDK, sftp-expose's memory, each against its target. */
export function s3MarkdownTable(r: S3Result): string {
  const ratioTarget = S3_TARGETS.throughputRatio;
  const rssTarget = S3_TARGETS.peakRssMiB;
  const rclone = (c: S3Comparison) => (c.rclone ? `${c.rclone.seconds.toFixed(2)} s (${(r.sizeMiB / c.rclone.seconds).toFixed(0)} MiB/s) | ${c.rclone.ratio.toFixed(2)}x` : 'not run | ');
  const row = (label: string, c: S3Comparison) =>
    `| ${label} | ${c.sftpExpose.toFixed(2)} s (${c.sftpExposeMiBps.toFixed(0)} MiB/s) | ${c.direct.toFixed(2)} s (${c.directMiBps.toFixed(0)} MiB/s) | ${c.ratio.toFixed(2)}x | >= ${ratioTarget}x: ${verdict(c.ratio >= ratioTarget)} | ${rclone(c)} |`;
  const size = r.sizeMiB >= 1024 ? `${r.sizeMiB / 1024} GiB` : `${r.sizeMiB} MiB`;
  return [
    `| S3 workload | sftp-expose (${r.samples.server}; OpenSSH sftp -> sftp-expose -> S3) | direct SDK (lib-storage Upload / GetObject) | ours / direct throughput | target | rclone serve sftp over the bucket | rclone time / ours |`,
    '|---|---:|---:|---:|---|---:|---:|',
    row(`put ${size}`, r.put),
    row(`get ${size}`, r.get),
    `| sftp session without transfer (connect, auth, exit) | ${r.sftpSessionSeconds.toFixed(2)} s | | | | | |`,
    `| sftp-expose RSS after the warm-up login, before any transfer | ${r.idleRssMiB.toFixed(1)} MiB | | | | | |`,
    `| sftp-expose peak RSS during the put (kernel VmHWM, reset per transfer; median / max of rounds) | ${r.putPeakRssMiB.median.toFixed(1)} / ${r.putPeakRssMiB.max.toFixed(1)} MiB | | | < ${rssTarget} MiB: ${verdict(r.putPeakRssMiB.max < rssTarget)} | | |`,
    `| sftp-expose peak RSS during the get (median / max) | ${r.getPeakRssMiB.median.toFixed(1)} / ${r.getPeakRssMiB.max.toFixed(1)} MiB | | | | | |`,
    `| sftp-expose VmHWM over the whole workload (the node process alone; start, puts, gets) | ${r.highWaterMarkMiB.toFixed(1)} MiB | | | | | |`,
  ].join('\n');
}
