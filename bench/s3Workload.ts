/**
 * The S3 workload (issue 5): the big file put and got through sftp-expose
 * over S3FS, against the AWS SDK doing the same transfers directly, on the
 * same local S3 server (s3rver) in the same run, interleaved round by round.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { LAYOUT } from './dataset.js';
import { samplePeakMemory, treeMemory } from './procfs.js';
import type { S3Samples } from './s3Report.js';
import { startRcloneOverS3, startS3BenchServers } from './s3Servers.js';
import type { BenchServer } from './servers/types.js';
import { runSftp } from './sftpClient.js';
import { IntegrityError, rotate, type BenchContext } from './workloads.js';

const MiB = 1024 * 1024;
/** The direct upload uses S3FS's defaults (8 MiB parts, 4 in flight), so both sides move the same parts. */
const DIRECT_PART_SIZE = 8 * MiB;
const DIRECT_QUEUE_SIZE = 4;

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

/** A sink that drops what it is given, as `get ... /dev/null` does on the sftp side. */
function nowhere(): Writable {
  return new Writable({
    highWaterMark: MiB,
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

/** The kernel's record of the highest RSS the process ever had (VmHWM), in bytes: sampling cannot miss it. */
function highWaterMark(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

async function directPut(client: S3Client, bucket: string, key: string, path: string): Promise<number> {
  const started = process.hrtime.bigint();
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: createReadStream(path, { highWaterMark: MiB }) },
    partSize: DIRECT_PART_SIZE,
    queueSize: DIRECT_QUEUE_SIZE,
  });
  await upload.done();
  return seconds(started);
}

async function directGet(client: S3Client, bucket: string, key: string): Promise<number> {
  const started = process.hrtime.bigint();
  const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await pipeline(Body as Readable, nowhere());
  return seconds(started);
}

/** sha256 of an object as the S3 server returns it: what a reader of the bucket would get. */
async function objectSha256(client: S3Client, bucket: string, key: string): Promise<string> {
  const hash = createHash('sha256');
  const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await pipeline(
    Body as Readable,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback();
      },
    }),
  );
  return hash.digest('hex');
}

/**
 * One sftp batch timed, with the server's peak RSS over it. The S3 server is
 * one process that outlives the batch, so the kernel's own peak (VmHWM,
 * reset through /proc/PID/clear_refs first) gives the exact peak at no cost.
 * Sampling /proc meanwhile (smaps_rollup and a /proc scan, some 3 ms of CPU
 * each time) would take CPU from the transfer on a 2-core machine, and only
 * from the sftp side: the direct SDK transfers are not sampled.
 */
async function sftpWithPeak(ctx: BenchContext, server: BenchServer, commands: string[]): Promise<{ seconds: number; peakRss: number }> {
  if (!resetHighWaterMark(server.pid)) {
    const sampler = samplePeakMemory(server.pid, 50);
    try {
      const run = await runSftp(server, ctx.env.clientKeyPath, commands);
      return { seconds: run.seconds, peakRss: sampler.stop().rss };
    } finally {
      sampler.stop();
    }
  }
  const run = await runSftp(server, ctx.env.clientKeyPath, commands);
  return { seconds: run.seconds, peakRss: highWaterMark(server.pid) };
}

/** Sets VmHWM back to the current RSS (Linux 4.0+); false where that is not allowed. */
function resetHighWaterMark(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the S3 workload `ctx.options.rounds` times. In each round every side
 * (sftp-expose, the SDK directly, and with `withRclone` rclone serve sftp
 * over the same bucket) puts the big file, who goes first rotating by round;
 * every object is checked by sha256 through the SDK (untimed); then every
 * side gets the object back (rotating again), to /dev/null or a discarding
 * stream. The local S3 server and the SFTP servers are started
 * for this workload and stopped after it.
 */
export async function runS3Workload(ctx: BenchContext, progress: (message: string) => void, withRclone: boolean): Promise<S3Samples> {
  const servers = await startS3BenchServers(ctx.env, ctx.options.s3Server);
  const { s3, sftpExpose } = servers;
  const { client, bucket } = s3;
  const big = join(ctx.env.dataDir, LAYOUT.big);
  const samples: S3Samples = { server: ctx.options.s3Server, size: ctx.options.size, sftpPut: [], directPut: [], sftpGet: [], directGet: [], rclonePut: [], rcloneGet: [], sftpSession: [], idleRss: 0, putRss: [], getRss: [], highWaterMark: 0 };
  let rclone: BenchServer | undefined;
  try {
    if (withRclone) rclone = await startRcloneOverS3(ctx.env, s3, bucket);
    // Untimed: the first login pays for loading code on both sides.
    await runSftp(sftpExpose, ctx.env.clientKeyPath, ['ls']);
    if (rclone) await runSftp(rclone, ctx.env.clientKeyPath, ['ls']);
    samples.idleRss = treeMemory(sftpExpose.pid).rss;
    // Before sftpWithPeak resets it: the peak of starting up and the first login.
    const startupPeak = highWaterMark(sftpExpose.pid);
    progress(`S3: s3rver at ${s3.endpoint}, sftp-expose (${ctx.options.s3Server}) over S3FS on port ${sftpExpose.port} (pid ${sftpExpose.pid})${rclone ? `, rclone serve sftp over the bucket on port ${rclone.port}` : ''}`);
    for (let round = 0; round < ctx.options.rounds; round++) {
      const ours = `sftp-r${round}.bin`;
      const keys = [ours, `direct-r${round}.bin`, ...(rclone ? [`rclone-r${round}.bin`] : [])];
      const puts = [
        async () => {
          const { seconds, peakRss } = await sftpWithPeak(ctx, sftpExpose, [`put ${big} ${ours}`]);
          samples.sftpPut.push(seconds);
          samples.putRss.push(peakRss);
        },
        async () => void samples.directPut.push(await directPut(client, bucket, keys[1]!, big)),
        ...(rclone ? [async () => void samples.rclonePut.push((await runSftp(rclone!, ctx.env.clientKeyPath, [`put ${big} ${keys[2]}`])).seconds)] : []),
      ];
      for (const put of rotate(puts, round)) {
        await put();
        // s3rver stores on disk: one side's writeback must not land in the other's measurement.
        spawnSync('sync');
      }
      for (const key of keys) {
        const actual = await objectSha256(client, bucket, key);
        if (actual !== ctx.dataset.bigSha256) throw new IntegrityError(`S3: object ${key} has sha256 ${actual}, sent ${ctx.dataset.bigSha256}`);
      }
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: keys[1] }));

      // sftp-expose and the SDK get the object sftp-expose stored; rclone the one it stored (its directory
      // cache, 5 minutes by default, does not see objects others put meanwhile). The bytes are the same.
      const gets = [
        async () => {
          const { seconds, peakRss } = await sftpWithPeak(ctx, sftpExpose, [`get ${ours} /dev/null`]);
          samples.sftpGet.push(seconds);
          samples.getRss.push(peakRss);
        },
        async () => void samples.directGet.push(await directGet(client, bucket, ours)),
        ...(rclone ? [async () => void samples.rcloneGet.push((await runSftp(rclone!, ctx.env.clientKeyPath, [`get ${keys[2]} /dev/null`])).seconds)] : []),
      ];
      for (const get of rotate(gets, round)) await get();
      // What an sftp run costs besides the transfer (connect, kex, auth, exit), to read the put/get times against.
      samples.sftpSession.push((await runSftp(sftpExpose, ctx.env.clientKeyPath, ['pwd'])).seconds);
      for (const key of [ours, ...keys.slice(2)]) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      const last = (values: number[]) => (values.length > 0 ? `${values[values.length - 1]!.toFixed(2)} s` : '-');
      progress(
        `S3 round ${round + 1}/${ctx.options.rounds}: put sftp-expose ${last(samples.sftpPut)}, direct ${last(samples.directPut)}, rclone ${last(samples.rclonePut)}; ` +
          `get sftp-expose ${last(samples.sftpGet)}, direct ${last(samples.directGet)}, rclone ${last(samples.rcloneGet)}; ` +
          `peak RSS put ${(samples.putRss[round]! / MiB).toFixed(1)} MiB, get ${(samples.getRss[round]! / MiB).toFixed(1)} MiB`,
      );
    }
    samples.highWaterMark = Math.max(startupPeak, ...samples.putRss, ...samples.getRss, highWaterMark(sftpExpose.pid));
    return samples;
  } finally {
    await rclone?.stop();
    await servers.stop();
  }
}

