import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statfsSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalFS } from '../../src/backends/local.js';
import { MemoryFS } from '../../src/backends/memory.js';
import type { FS } from '../../src/fs/FS.js';
import type { ExecCommands } from '../../src/ssh/exec.js';
import type { SessionInfo } from '../../src/ssh/BaseSFTPServer.js';
import { clientKey } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { runProcess, type ProcessResult } from '../helpers/runProcess.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, TEST_USER, TestSFTPServer, type TestServer } from '../helpers/testServer.js';

const skip = requireTool('rclone');
const MiB = 1024 * 1024;
const MEMORY_CAPACITY = 1024 * MiB;

/** The local tree copied up: empty and large files, nesting, unicode and spaces; mtimes are whole seconds (SFTP v3 keeps no more). */
const TREE: Array<{ path: string; data: Buffer; mtime: number }> = [
  { path: 'empty.txt', data: Buffer.alloc(0) },
  { path: 'big.bin', data: randomBytes(20 * MiB) },
  { path: 'name with spaces.txt', data: Buffer.from('spaces\n') },
  { path: 'ünïcødé 日本語 🎉.txt', data: Buffer.from('unicode\n') },
  { path: "quote's & $dollar.txt", data: Buffer.from('shell specials\n') },
  { path: 'nested/another file.md', data: Buffer.from('# nested\n') },
  { path: 'nested/deeper/deepest/leaf.txt', data: randomBytes(70_000) },
].map((file, index) => ({ ...file, mtime: Date.UTC(2021, 2, 4, 5, 6, 7 + index) / 1000 }));

const hashOf = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('hex');

/** A server that records every exec command line it runs, to prove rclone used them. */
class RecordingServer extends TestSFTPServer {
  readonly execs: string[][] = [];
  override createExecCommands(fs: FS, session: SessionInfo): ExecCommands {
    const commands = super.createExecCommands(fs, session);
    for (const [name, command] of commands) {
      commands.set(name, (args, context) => {
        this.execs.push([name, ...args]);
        return command(args, context);
      });
    }
    return commands;
  }
}

/** Runs rclone with `config` only (never the user's), UTC times, no retries; kills it after two minutes. */
function runRclone(config: string, args: string[]): Promise<ProcessResult> {
  const fullArgs = ['--config', config, '--retries', '1', '--low-level-retries', '1', ...args];
  return runProcess('rclone', fullArgs, { env: { ...process.env, TZ: 'UTC' }, timeoutMs: 120_000 });
}

/** An rclone config with one sftp remote `expose` for our test user and key. */
function writeRcloneConfig(path: string, port: number, keyPath: string): void {
  // shell_type is set so rclone does not probe with `echo`; the hash commands are left to its autodetection.
  const lines = ['[expose]', 'type = sftp', 'host = 127.0.0.1', `port = ${port}`, `user = ${TEST_USER}`, `key_file = ${keyPath}`, 'shell_type = unix', ''];
  writeFileSync(path, lines.join('\n'));
}

describe('rclone sftp backend against sftp-expose', { skip }, () => {
  const source = makeTempDir('sftp-expose-rclone-src-');

  before(() => {
    for (const file of TREE) {
      const path = join(source.path, file.path);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, file.data);
      utimesSync(path, file.mtime, file.mtime);
    }
  });
  after(() => source.remove());

  const backends: Array<{ name: string; make(dir: string): FS; totalBytes(dir: string): number }> = [
    {
      name: 'LocalFS',
      make: (dir) => new LocalFS({ root: dir }),
      totalBytes: (dir) => {
        const stats = statfsSync(dir);
        return stats.bsize * stats.blocks;
      },
    },
    { name: 'MemoryFS', make: () => new MemoryFS({ capacity: MEMORY_CAPACITY }), totalBytes: () => MEMORY_CAPACITY },
  ];

  for (const backend of backends) {
    describe(`over ${backend.name}`, () => {
      const work = makeTempDir('sftp-expose-rclone-');
      const served = join(work.path, 'served');
      const config = join(work.path, 'rclone.conf');
      let server: TestServer;
      let recorder: RecordingServer;

      const rclone = (...args: string[]) => runRclone(config, args);
      async function rcloneOk(...args: string[]): Promise<string> {
        const result = await rclone(...args);
        assert.equal(result.code, 0, `rclone ${args.join(' ')} failed:\n${result.stderr}`);
        return result.stdout;
      }

      before(async () => {
        mkdirSync(served);
        const key = clientKey();
        server = await startTestServer({
          fs: backend.make(served),
          create: (options) => (recorder = new RecordingServer(options, { username: TEST_USER, keys: [key.publicKey] })),
        });
        writeRcloneConfig(config, server.port, key.path);
      });
      after(async () => {
        if (server) await server.close();
        work.remove();
      });

      it('copies a mixed tree and check --download finds every byte equal', async () => {
        await rcloneOk('copy', source.path, 'expose:dst');
        await rcloneOk('check', '--download', source.path, 'expose:dst');
        const listed = (await rcloneOk('lsf', '-R', '--files-only', 'expose:dst')).split('\n').filter(Boolean).sort();
        assert.deepEqual(listed, TREE.map((file) => file.path).sort());
      });

      it('detects md5sum and sha1sum as working commands and gets every hash from the server', async () => {
        for (const [program, algorithm] of [['md5sum', 'md5'], ['sha1sum', 'sha1']] as const) {
          recorder.execs.length = 0;
          const output = await rcloneOk(program, 'expose:dst');
          const hashes = new Map(
            output
              .split('\n')
              .filter(Boolean)
              .map((line) => [line.slice(line.indexOf('  ') + 2), line.slice(0, line.indexOf('  '))] as const),
          );
          assert.deepEqual(
            Object.fromEntries([...hashes].sort()),
            Object.fromEntries(TREE.map((file) => [file.path, hashOf(algorithm, file.data)] as const).sort()),
            `rclone ${program}`,
          );
          // rclone would print blank hashes without the exec path; check it asked us, for each file.
          const hashed = recorder.execs.filter(([name, ...args]) => name === program && args.length === 1).map(([, path]) => path).sort();
          assert.deepEqual(hashed, TREE.map((file) => `/dst/${file.path}`).sort());
        }
        assert.match(readFileSync(config, 'utf8'), /md5sum_command = md5sum/, 'rclone saved the detected md5sum command');
      });

      it('about reports the size of the served filesystem (through statvfs@openssh.com, not df)', async () => {
        recorder.execs.length = 0;
        const about = JSON.parse(await rcloneOk('about', '--json', 'expose:')) as { total: number; used: number; free: number };
        assert.equal(about.total, backend.totalBytes(served));
        assert.ok(about.used > 20 * MiB || backend.name === 'LocalFS', `used ${about.used}`);
        assert.ok(about.free > 0 && about.free <= about.total - about.used, JSON.stringify(about));
        assert.deepEqual(recorder.execs, []);
      });

      it('keeps modification times (lsl shows the source times)', async () => {
        const lines = (await rcloneOk('lsl', 'expose:dst')).split('\n').filter(Boolean);
        const listed = new Map(
          lines.map((line) => {
            const match = /^\s*(\d+) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.\d+ (.*)$/.exec(line);
            assert.ok(match, `unexpected lsl line ${JSON.stringify(line)}`);
            return [match[3]!, `${match[1]} ${match[2]}`] as const;
          }),
        );
        for (const file of TREE) {
          const expected = `${file.data.length} ${new Date(file.mtime * 1000).toISOString().replace('T', ' ').slice(0, 19)}`;
          assert.equal(listed.get(file.path), expected, file.path);
        }
      });

      it('moveto renames a file on the server', async () => {
        await rcloneOk('moveto', 'expose:dst/name with spaces.txt', 'expose:dst/nested/renamed file.txt');
        const listed = (await rcloneOk('lsf', '-R', '--files-only', 'expose:dst')).split('\n');
        assert.ok(listed.includes('nested/renamed file.txt'));
        assert.ok(!listed.includes('name with spaces.txt'));
        assert.equal(await rcloneOk('cat', 'expose:dst/nested/renamed file.txt'), 'spaces\n');
      });

      it('delete removes files and rmdirs the directories left empty', async () => {
        await rcloneOk('delete', 'expose:dst/nested');
        assert.deepEqual((await rcloneOk('lsf', '-R', '--files-only', 'expose:dst/nested')).split('\n').filter(Boolean), []);
        const dirsBefore = (await rcloneOk('lsf', '-R', '--dirs-only', 'expose:dst')).split('\n').filter(Boolean).sort();
        assert.deepEqual(dirsBefore, ['nested/', 'nested/deeper/', 'nested/deeper/deepest/']);
        await rcloneOk('rmdirs', 'expose:dst');
        assert.deepEqual((await rcloneOk('lsf', '-R', 'expose:dst')).split('\n').filter(Boolean).sort(), [
          'big.bin',
          'empty.txt',
          "quote's & $dollar.txt",
          'ünïcødé 日本語 🎉.txt',
        ]);
      });
    });
  }

  describe('about without the statvfs extension', () => {
    const work = makeTempDir('sftp-expose-rclone-df-');
    const config = join(work.path, 'rclone.conf');
    let server: TestServer;
    let recorder: DfOnlyServer;
    /** Serves an FS without statvfs (so no statvfs@openssh.com), and answers `df` from another of known size: rclone then parses our df table. */
    class DfOnlyServer extends RecordingServer {
      readonly sized = new MemoryFS({ capacity: 3 * MEMORY_CAPACITY });
      override createExecCommands(fs: FS, session: SessionInfo): ExecCommands {
        const commands = super.createExecCommands(fs, session);
        const recordedDf = commands.get('df')!;
        commands.set('df', (args, context) => recordedDf(args, { ...context, fs: this.sized }));
        return commands;
      }
    }

    before(async () => {
      const served = new MemoryFS();
      Object.defineProperty(served, 'statvfs', { value: undefined });
      const key = clientKey();
      server = await startTestServer({ fs: served, create: (options) => (recorder = new DfOnlyServer(options, { username: TEST_USER, keys: [key.publicKey] })) });
      writeRcloneConfig(config, server.port, key.path);
    });
    after(async () => {
      if (server) await server.close();
      work.remove();
    });

    it('falls back to `df -k` and reads sizes from its table', async () => {
      await recorder.sized.writeFile('/used.bin', Buffer.alloc(5 * MiB));
      const result = await runRclone(config, ['about', '--json', 'expose:']);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { total: 3 * MEMORY_CAPACITY, used: 5 * MiB, free: 3 * MEMORY_CAPACITY - 5 * MiB });
      assert.deepEqual(recorder.execs, [['df', '-k', '/']]);
    });
  });
});
