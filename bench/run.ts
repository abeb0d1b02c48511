/**
 * `npm run bench`: sftp-expose side by side with OpenSSH's sftp (internal-sftp)
 * and `rclone serve sftp`, all on 127.0.0.1 serving the same fresh data
 * directory, driven by OpenSSH's `sftp` client. See docs/performance.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDataset } from './dataset.js';
import { describeMachine } from './machine.js';
import { stolenCpuSeconds } from './procfs.js';
import { parseOptions, USAGE, type BenchOptions, type ServerName, type WorkloadId } from './options.js';
import { markdownTable, stolenCpuTable, summarise, warmUpTable, type BenchReport, type Samples, type StolenCpu } from './report.js';
import { s3MarkdownTable, summariseS3, type S3Result } from './s3Report.js';
import { runS3Workload } from './s3Workload.js';
import { opensshMissing, opensshTmpfsTarget, startOpenSSH } from './servers/openssh.js';
import { rcloneMissing, startRclone, startRcloneTmpfs } from './servers/rclone.js';
import { startSftpExpose } from './servers/sftpExpose.js';
import type { BenchEnvironment, BenchServer } from './servers/types.js';
import { runSftp } from './sftpClient.js';
import { IntegrityError, WORKLOADS, rotate, type BenchContext, type Workload } from './workloads.js';

/** The built package, which the bench's sftp-expose servers import as users do (bench/sftpExposeServer.ts its core entry, bench/s3Server.ts the full one). */
const BUILT_PACKAGE = fileURLToPath(new URL('../dist/index.js', import.meta.url));

function loud(message: string): void {
  process.stderr.write(`\n*** ${message} ***\n\n`);
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Drops servers that are not installed, loudly: a comparison silently missing OpenSSH would mislead. */
function availableServers(requested: ServerName[]): ServerName[] {
  const missing: Partial<Record<ServerName, string | undefined>> = { openssh: opensshMissing(), rclone: rcloneMissing() };
  return requested.filter((name) => {
    const reason = missing[name];
    if (reason) loud(`SKIPPING ${name}: ${reason}`);
    return !reason;
  });
}

function makeKeys(workDir: string): Pick<BenchEnvironment, 'clientKeyPath' | 'authorizedKeysPath' | 'hostKeyPath'> {
  const keygen = (path: string) => {
    const result = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sftp-expose-bench', '-f', path]);
    if (result.status !== 0) throw new Error(`ssh-keygen failed: ${result.stderr}`);
  };
  const clientKeyPath = join(workDir, 'client_ed25519');
  const hostKeyPath = join(workDir, 'host_ed25519');
  keygen(clientKeyPath);
  keygen(hostKeyPath);
  const authorizedKeysPath = join(workDir, 'authorized_keys');
  writeFileSync(authorizedKeysPath, readFileSync(`${clientKeyPath}.pub`), { mode: 0o600 });
  return { clientKeyPath, authorizedKeysPath, hostKeyPath };
}

/** A scratch directory on tmpfs when the machine has one (reading back memory uploads, W8 for OpenSSH/rclone). */
function tmpfsDir(prefix: string): string {
  return mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), prefix));
}

/** Starts the servers in order; each is added to `running` as soon as it is up, so a later failure still stops it. */
async function startMainServers(names: ServerName[], env: BenchEnvironment, options: BenchOptions, running: BenchServer[]): Promise<BenchServer[]> {
  const servers: BenchServer[] = [];
  for (const name of names) {
    const server =
      name === 'openssh' ? await startOpenSSH(env) : name === 'rclone' ? await startRclone(env, env.dataDir, 'main') : await startSftpExpose(env, options.workers);
    servers.push(server);
    running.push(server);
  }
  return servers;
}

/** Servers for one workload, and those of them started for it (to stop afterwards). */
interface ServerSet {
  servers: BenchServer[];
  owned: BenchServer[];
}

async function startMemoryServers(main: BenchServer[], env: BenchEnvironment, shmDir: string, running: BenchServer[]): Promise<ServerSet> {
  const servers: BenchServer[] = [];
  const owned: BenchServer[] = [];
  for (const server of main) {
    if (server.name === 'openssh') servers.push(opensshTmpfsTarget(server, shmDir));
    else {
      const started = server.name === 'rclone' ? await startRcloneTmpfs(env, shmDir) : await startSftpExpose(env, 1, true);
      servers.push(started);
      owned.push(started);
      running.push(started);
    }
  }
  return { servers, owned };
}

/**
 * The small-file workloads: a run takes seconds and swings by a third, so
 * they get more rounds (--small-rounds), after untimed warm-up rounds
 * (--warm-up-rounds): sftp-expose is one long-lived process whose JIT
 * compiles each workload's own request paths during its first few thousand
 * requests, which OpenSSH (a fresh C process per session) never pays; what a
 * server that has been up a while does is what the medians are for. The
 * warm-up rounds are reported apart.
 */
const SMALL_FILE_WORKLOADS: readonly WorkloadId[] = ['W3', 'W4', 'W5'];

/** What a round's values are recorded into: the measured rounds' or the warm-up rounds' (reported apart). */
interface RoundRecord {
  samples: Samples;
  stolen: StolenCpu;
}

async function runRound(workload: Workload, servers: BenchServer[], round: number, ctx: BenchContext, record: RoundRecord, label: string): Promise<void> {
  for (const server of rotate(servers, round)) {
    const stolenBefore = stolenCpuSeconds();
    const metrics = await workload.run(ctx, server, round);
    const stolenDuring = Math.round((stolenCpuSeconds() - stolenBefore) * 100) / 100;
    // Untimed: the next run starts with no dirty data of this one still to be written back (1 GiB after a
    // W2 put), which the kernel would otherwise write while the next server's run is timed.
    spawnSync('sync');
    for (const [metric, value] of Object.entries(metrics) as [keyof Samples, number][]) {
      const byServer = (record.samples[metric] ??= {});
      (byServer[server.name] ??= []).push(value);
    }
    ((record.stolen[workload.id] ??= {})[server.name] ??= []).push(stolenDuring);
    const shown = Object.entries(metrics).map(([metric, value]) => `${metric}=${value < 1000 ? value.toFixed(3) : Math.round(value)}`);
    progress(`${workload.id} ${label} ${server.name}: ${shown.join(' ')} (CPU stolen: ${stolenDuring.toFixed(2)} s)`);
  }
}

/** Servers started for some workloads only; stopped (and forgotten by `running`) once the workload is done. */
async function withServers(start: () => Promise<ServerSet>, running: BenchServer[], warmUpKey: string, use: (servers: BenchServer[]) => Promise<void>): Promise<void> {
  const set = await start();
  for (const server of set.owned) if (!running.includes(server)) running.push(server);
  try {
    for (const server of set.servers) await runSftp(server, warmUpKey, ['ls']);
    await use(set.servers);
  } finally {
    for (const server of set.owned) {
      await server.stop();
      running.splice(running.indexOf(server), 1);
    }
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (spawnSync('sftp', ['-V']).error) throw new Error('the OpenSSH sftp client is not installed (apt-get install openssh-client); it drives every workload');
  const serverNames = availableServers(options.servers);
  if (serverNames.length === 0) throw new Error('no server to benchmark');
  if (serverNames.includes('sftp-expose') && !existsSync(BUILT_PACKAGE)) {
    throw new Error('sftp-expose is measured as the built package in dist/: run `npm run build` first (`npm run bench` does)');
  }
  // W7 is measured during W6; run W6 once for both.
  const workloads = WORKLOADS.filter((w) => options.only.includes(w.id) && !(w.id === 'W7' && options.only.includes('W6')));
  // S3 compares sftp-expose with the AWS SDK (and with rclone serving the same bucket, when rclone runs): it needs sftp-expose.
  const s3 = options.only.includes('S3') && serverNames.includes('sftp-expose');
  if (options.only.includes('S3') && !s3) loud('SKIPPING S3: it measures sftp-expose, which --servers leaves out');

  const loadAtStart = loadavg()[0]!;
  const base = mkdtempSync(join(tmpdir(), 'sftp-expose-bench-'));
  const shmDir = tmpfsDir('sftp-expose-bench-');
  const verifyDir = join(shmDir, 'verify');
  const w8Dir = join(shmDir, 'w8');
  const dataDir = join(base, 'data');
  const workDir = join(base, 'work');
  for (const dir of [dataDir, workDir, verifyDir, w8Dir, join(base, 'client')]) mkdirSync(dir, { recursive: true });
  const toStop: BenchServer[] = [];
  const cleanup = async () => {
    await Promise.allSettled(toStop.splice(0).map((server) => server.stop()));
    if (options.keep) loud(`kept ${base} and ${shmDir}`);
    else {
      rmSync(base, { recursive: true, force: true });
      rmSync(shmDir, { recursive: true, force: true });
    }
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const env: BenchEnvironment = { dataDir, workDir, ...makeKeys(workDir) };
    const ids = new Set(workloads.map((w) => w.id));
    progress(`creating the data set in ${env.dataDir} ...`);
    const dataset = createDataset(env.dataDir, options, {
      big: ids.has('W1') || ids.has('W2') || ids.has('W8') || ids.has('W9') || s3,
      tree: ids.has('W3') || ids.has('W4'),
      list: ids.has('W5'),
      concurrent: ids.has('W6') || ids.has('W7') || ids.has('W9'),
    });
    spawnSync('sync');
    const ctx: BenchContext = { env, options, dataset, clientDir: join(base, 'client'), verifyDir };

    // Upload directories exist before the servers start: rclone caches listings, and would not see one made behind its back.
    for (const name of serverNames) mkdirSync(join(dataDir, `up-${name}`));
    const main = workloads.length > 0 ? await startMainServers(serverNames, env, options, toStop) : [];
    // One untimed login each, so that no server's first measured run pays for warming up.
    for (const server of main) await runSftp(server, env.clientKeyPath, ['ls']);
    if (main.length > 0) progress(`servers: ${main.map((s) => `${s.name} on port ${s.port} (pid ${s.pid})`).join(', ')}`);

    const measured: RoundRecord = { samples: {}, stolen: {} };
    const warmUp: RoundRecord = { samples: {}, stolen: {} };
    const measure = async (workload: Workload, servers: BenchServer[], rounds: number) => {
      for (let round = 0; round < rounds; round++) await runRound(workload, servers, round, ctx, measured, `round ${round + 1}/${rounds}`);
    };
    for (const workload of workloads) {
      progress(`\n${workload.id}: ${workload.describe(options)}`);
      if (workload.id === 'W8') {
        await withServers(() => startMemoryServers(main, env, w8Dir, toStop), toStop, env.clientKeyPath, (servers) => measure(workload, servers, options.rounds));
      } else if (workload.id === 'IDLE') {
        // Fresh servers each round: a process that has already served transfers has memory to spare, and new sessions would look free.
        for (let round = 0; round < options.rounds; round++) {
          const start = async () => {
            const servers = await startMainServers(serverNames, env, options, toStop);
            return { servers, owned: servers };
          };
          await withServers(start, toStop, env.clientKeyPath, (servers) => runRound(workload, servers, round, ctx, measured, `round ${round + 1}/${options.rounds}`));
        }
      } else if (SMALL_FILE_WORKLOADS.includes(workload.id)) {
        // Numbered after the measured rounds: a workload names its uploads by round, and rclone, which caches
        // listings, would not see a warm-up round's upload directory removed behind its back.
        for (let r = 0; r < options.warmUpRounds; r++) {
          await runRound(workload, main, options.smallRounds + r, ctx, warmUp, `warm-up round ${r + 1}/${options.warmUpRounds} (not in the medians)`);
        }
        await measure(workload, main, options.smallRounds);
      } else {
        await measure(workload, main, options.rounds);
      }
    }

    let s3Result: S3Result | undefined;
    if (s3) {
      progress(`\nS3: put and get one ${options.size / 1024 ** 2} MiB file through sftp-expose over S3FS, and directly with the AWS SDK, on a local s3rver`);
      s3Result = summariseS3(await runS3Workload(ctx, progress, serverNames.includes('rclone')));
    }

    const results = summarise(measured.samples);
    const warmUpResults = summarise(warmUp.samples);
    const report: BenchReport = {
      date: new Date().toISOString(),
      machine: describeMachine(),
      options,
      servers: serverNames,
      notes: [
        'times are medians of the wall time of an OpenSSH sftp client process (connect, auth, transfer, exit)',
        `cipher aes128-gcm@openssh.com; sftp-expose workers: ${options.workers}`,
        'W8: sftp-expose uploads to MemoryFS; OpenSSH and rclone upload to a directory on tmpfs (/dev/shm)',
        'ratios: other server median / sftp-expose median; > 1 means sftp-expose is faster (or uses less memory)',
        // Other work on the machine skews a run; the 1-minute load average says how quiet it was (quiet: below the CPU count).
        `load average (1 min) at start ${loadAtStart.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)}, on ${describeMachine().cpus} CPUs`,
        ...(s3Result ? ['S3: direct times are the SDK transfer alone (8 MiB parts, 4 in flight, as S3FS); sftp times include a whole sftp session, whose cost without a transfer is its own row'] : []),
      ],
      results,
      stolenCpu: measured.stolen,
      warmUp: { results: warmUpResults, stolenCpu: warmUp.stolen },
      s3: s3Result,
    };
    const tables = [
      results.length > 0 ? markdownTable(results, options) : '',
      results.length > 0 ? stolenCpuTable(measured.stolen) : '',
      warmUpResults.length > 0 ? warmUpTable(warmUpResults, warmUp.stolen) : '',
      s3Result ? s3MarkdownTable(s3Result) : '',
    ];
    const table = tables.filter(Boolean).join('\n\n');
    process.stdout.write(`\n${table}\n\n`);
    process.stdout.write(`${report.notes.map((n) => `- ${n}`).join('\n')}\n`);
    process.stdout.write(`- machine: ${JSON.stringify(report.machine)}\n`);
    if (options.json) {
      writeFileSync(options.json, JSON.stringify({ ...report, table }, null, 2) + '\n');
      progress(`results written to ${options.json}`);
    }
    return 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof IntegrityError) loud(`INTEGRITY FAILURE: ${error.message}`);
    else loud(`bench failed: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
