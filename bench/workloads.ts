import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { concurrentFile, LAYOUT, sha256File, treeMismatches, type Dataset } from './dataset.js';
import { measureIdleSessions } from './idleSessions.js';
import type { BenchOptions, WorkloadId } from './options.js';
import { samplePeakMemory, type MemoryUse } from './procfs.js';
import type { BenchEnvironment, BenchServer } from './servers/types.js';
import { runSftp } from './sftpClient.js';

/** Measured values of one workload run, by metric (see report.ts for units). */
export type Metrics = Partial<Record<MetricId, number>>;
export type MetricId = 'W1' | 'W1rss' | 'W2' | 'W2rss' | 'W3' | 'W4' | 'W5' | 'W6' | 'W7' | 'W7pss' | 'W8' | 'W8rss' | 'W9' | 'W9put' | 'IDLE' | 'IDLEpss';

export interface BenchContext {
  env: BenchEnvironment;
  options: BenchOptions;
  dataset: Dataset;
  /** Local scratch on disk for downloads. */
  clientDir: string;
  /** Local scratch on tmpfs for reading back uploads that only exist on the server. */
  verifyDir: string;
}

export interface Workload {
  id: WorkloadId;
  /** One line for the report. */
  describe(options: BenchOptions): string;
  run(ctx: BenchContext, server: BenchServer, round: number): Promise<Metrics>;
}

/** Round r runs the servers starting from a different one, so no server always goes first after a cleanup. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % Math.max(items.length, 1);
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** Thrown when what a server stored is not what was sent: the run must fail, not report a time. */
export class IntegrityError extends Error {}

const sftp = (ctx: BenchContext, server: BenchServer, commands: string[], cwd?: string) => runSftp(server, ctx.env.clientKeyPath, commands, cwd);

/** Flushes dirty pages so that one server's writeback does not land in the next server's measurement. */
function flushDisk(): void {
  spawnSync('sync');
}

function mib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${bytes / 1024 ** 3} GiB` : bytes >= 1024 ** 2 ? `${bytes / 1024 ** 2} MiB` : `${bytes / 1024} KiB`;
}

/**
 * Runs one sftp batch while sampling the server's memory every 100 ms (coarser
 * than W6's 20 ms: one process, slow growth, and less /proc reading competing
 * with the transfer). The peak says how much file data the server holds during
 * a big transfer.
 */
async function sftpWithPeakMemory(ctx: BenchContext, server: BenchServer, commands: string[]): Promise<{ seconds: number; peakRss: number }> {
  const sampler = samplePeakMemory(server.pid, 100);
  try {
    const { seconds } = await sftp(ctx, server, commands);
    return { seconds, peakRss: sampler.stop().rss };
  } finally {
    sampler.stop();
  }
}

async function prepareUploadDir(ctx: BenchContext, server: BenchServer): Promise<void> {
  const { hostDir, remoteDir } = server.upload;
  if (hostDir) mkdirSync(hostDir, { recursive: true });
  else await sftp(ctx, server, [`-mkdir ${remoteDir}`]);
}

/** Checks an uploaded copy of big.bin, then deletes it (from the host, or through the server when it only lives there). */
async function verifyAndRemoveBig(ctx: BenchContext, server: BenchServer, name: string): Promise<void> {
  const { hostDir, remoteDir } = server.upload;
  let actual: string;
  if (hostDir) {
    actual = await sha256File(join(hostDir, name));
    rmSync(join(hostDir, name));
  } else {
    const local = join(ctx.verifyDir, name);
    await sftp(ctx, server, [`get ${remoteDir}/${name} ${local}`, `rm ${remoteDir}/${name}`]);
    actual = await sha256File(local);
    rmSync(local);
  }
  if (actual !== ctx.dataset.bigSha256) {
    throw new IntegrityError(`${server.name}: uploaded ${remoteDir}/${name} has sha256 ${actual}, sent ${ctx.dataset.bigSha256}`);
  }
}

/** Puts big.bin as `name` into the server's upload directory; verifying and removing it is the caller's next step. */
async function putBig(ctx: BenchContext, server: BenchServer, name: string): Promise<{ seconds: number; peakRss: number }> {
  await prepareUploadDir(ctx, server);
  return sftpWithPeakMemory(ctx, server, [`put ${join(ctx.env.dataDir, LAYOUT.big)} ${server.upload.remoteDir}/${name}`]);
}

async function uploadBig(ctx: BenchContext, server: BenchServer, workload: 'W2' | 'W8', round: number): Promise<Metrics> {
  const name = `${workload.toLowerCase()}-r${round}.bin`;
  const { seconds, peakRss } = await putBig(ctx, server, name);
  await verifyAndRemoveBig(ctx, server, name);
  flushDisk();
  return { [workload]: seconds, [`${workload}rss`]: peakRss };
}

const W1: Workload = {
  id: 'W1',
  describe: (o) => `get one ${mib(o.size)} file to /dev/null`,
  async run(ctx, server) {
    const { seconds, peakRss } = await sftpWithPeakMemory(ctx, server, [`get ${LAYOUT.big} /dev/null`]);
    return { W1: seconds, W1rss: peakRss };
  },
};

const W2: Workload = {
  id: 'W2',
  describe: (o) => `put one ${mib(o.size)} file to the local-disk backend (sha256 verified)`,
  run: (ctx, server, round) => uploadBig(ctx, server, 'W2', round),
};

const W3: Workload = {
  id: 'W3',
  describe: (o) => `put -r a tree of ${o.files} x ${mib(o.fileSize)} files (sha256 of each verified)`,
  async run(ctx, server, round) {
    await prepareUploadDir(ctx, server);
    const hostDir = server.upload.hostDir!;
    const name = `w3-r${round}`;
    const { seconds } = await sftp(ctx, server, [`put -r ${join(ctx.env.dataDir, LAYOUT.tree)} ${server.upload.remoteDir}/${name}`]);
    const bad = treeMismatches(join(hostDir, name), ctx.dataset.treeSha256);
    rmSync(join(hostDir, name), { recursive: true });
    flushDisk();
    if (bad.length > 0) throw new IntegrityError(`${server.name}: put -r stored ${bad.length} wrong files, e.g. ${bad.slice(0, 5).join(', ')}`);
    return { W3: seconds };
  },
};

const W4: Workload = {
  id: 'W4',
  describe: (o) => `get -r that tree (${o.files} files) to local disk`,
  async run(ctx, server, round) {
    const local = join(ctx.clientDir, `w4-${server.name}-r${round}`);
    const { seconds } = await sftp(ctx, server, [`get -r ${LAYOUT.tree} ${local}`]);
    const bad = treeMismatches(local, ctx.dataset.treeSha256);
    rmSync(local, { recursive: true });
    if (bad.length > 0) throw new IntegrityError(`${server.name}: get -r delivered ${bad.length} wrong files, e.g. ${bad.slice(0, 5).join(', ')}`);
    return { W4: seconds };
  },
};

const W5: Workload = {
  id: 'W5',
  describe: (o) => `ls -l of a directory of ${o.entries} entries`,
  async run(ctx, server) {
    const { seconds, stdout } = await sftp(ctx, server, [`ls -l ${LAYOUT.list}`]);
    const lines = stdout.split('\n').filter((line) => line.includes('entry-')).length;
    if (lines !== ctx.options.entries) throw new IntegrityError(`${server.name}: ls -l listed ${lines} entries, expected ${ctx.options.entries}`);
    return { W5: seconds };
  },
};

/** W6 and W7 come from one run: the time of the concurrent gets and the server's peak memory meanwhile. */
/** All W6 clients at once; the time until the last exits, and the server's peak memory meanwhile (20 ms samples). */
async function concurrentGets(ctx: BenchContext, server: BenchServer): Promise<{ seconds: number; peak: MemoryUse }> {
  const sampler = samplePeakMemory(server.pid);
  const started = process.hrtime.bigint();
  let seconds: number;
  try {
    await Promise.all(Array.from({ length: ctx.options.clients }, (_, i) => sftp(ctx, server, [`get ${concurrentFile(i)} /dev/null`])));
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    sampler.stop();
  }
  return { seconds, peak: sampler.stop() };
}

/** W6 and W7 come from one run: the time of the concurrent gets and the server's peak memory meanwhile. */
const W6: Workload = {
  id: 'W6',
  describe: (o) => `${o.clients} concurrent sftp clients, each getting its own ${mib(o.clientSize)} file to /dev/null (wall time of all)`,
  async run(ctx, server) {
    const { seconds, peak } = await concurrentGets(ctx, server);
    return { W6: seconds, W7: peak.rss, W7pss: peak.pss };
  },
};

const W7: Workload = {
  id: 'W7',
  describe: () => 'peak memory of the server (process tree, sampled every 20 ms) during W6',
  run: (ctx, server, round) => W6.run(ctx, server, round),
};

const W8: Workload = {
  id: 'W8',
  describe: (o) =>
    `put one ${mib(o.size)} file to memory: sftp-expose's MemoryFS; OpenSSH and rclone write to tmpfs (/dev/shm) instead (sha256 verified)`,
  run: (ctx, server, round) => uploadBig(ctx, server, 'W8', round),
};

/** Issue 4: a long upload must not stall other sessions (an event loop blocked by writes would). */
const W9: Workload = {
  id: 'W9',
  describe: (o) => `W6 (${o.clients} x ${mib(o.clientSize)} gets) started together with one ${mib(o.size)} put (W2): do other sessions stall during an upload?`,
  async run(ctx, server, round) {
    const name = `w9-r${round}.bin`;
    const [put, gets] = await Promise.all([putBig(ctx, server, name), concurrentGets(ctx, server)]);
    // Verified after both finish, so that hashing on the bench side does not compete with the gets.
    await verifyAndRemoveBig(ctx, server, name);
    flushDisk();
    return { W9: gets.seconds, W9put: put.seconds };
  },
};

const IDLE: Workload = {
  id: 'IDLE',
  describe: (o) => `${o.idleSessions} idle sessions (ssh2 clients, SFTP channel open): server memory growth per session`,
  async run(ctx, server) {
    const { rssPerSession, pssPerSession } = await measureIdleSessions(server, ctx.env.clientKeyPath, ctx.options.idleSessions);
    return { IDLE: rssPerSession, IDLEpss: pssPerSession };
  },
};

export const WORKLOADS: readonly Workload[] = [W1, W2, W3, W4, W5, W6, W7, W8, W9, IDLE];

/** Empties a scratch directory between runs without removing it. */
export function emptyDir(dir: string): void {
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}
