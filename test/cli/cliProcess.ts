/**
 * Runs the built `sftp-expose` CLI as a child process, and the real clients
 * (OpenSSH sftp, ssh2's Client) the CLI tests talk to it with.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import ssh2 from 'ssh2';

export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const START_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 20_000;

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A temporary directory for one test, removed by `cleanup`. */
export async function makeTempDir(prefix = 'sftp-expose-cli-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`);
}

/**
 * Spawns the CLI with this test's node (after `nodeArgs`, flags for node
 * itself), or with `'program'` the file itself, as npm's bin link runs it (its
 * launcher lines start node). `home` becomes HOME so no real
 * ~/.ssh/authorized_keys or cache leaks in.
 */
function spawnCLI(args: string[], home: string, nodeArgs: string[] | 'program' = []): ChildProcess {
  assertBuilt();
  const [command, commandArgs] = nodeArgs === 'program' ? [CLI_PATH, args] : [process.execPath, [...nodeArgs, CLI_PATH, ...args]];
  return spawn(command, commandArgs, {
    env: { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves when the child has exited and its output is drained; kills it after `timeoutMs` if given. */
function collectExit(child: ChildProcess, output: { stdout: string; stderr: string }, timeoutMs?: number): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`${child.spawnfile} did not exit within ${timeoutMs} ms; stderr:\n${output.stderr}`));
          }, timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: output.stdout, stderr: output.stderr });
    });
  });
}

/** Runs a CLI invocation expected to end by itself (help, errors). */
export async function runCLI(args: string[], home: string): Promise<Exited> {
  const child = spawnCLI(args, home);
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  return collectExit(child, output, EXIT_TIMEOUT_MS);
}

/** A server process (the CLI or an example) that has logged `listening on host:port`. */
export interface RunningCLI {
  port: number;
  pid: number;
  /** `algorithm SHA256:...` lines from the start-up log. */
  fingerprints: string[];
  stderr(): string;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exited>;
  /** Sends a signal without waiting for anything (SIGHUP, or SIGTERM while a transfer runs). */
  kill(signal: NodeJS.Signals): void;
  /** Waits for the process to exit by itself (after a signal already sent): sends nothing. */
  exited(): Promise<Exited>;
}

/**
 * Starts `sftp-expose serve ...args` on a free port and waits until it listens.
 * Logs are plain text lines (tests match them), unless args pick another --log-format.
 * `nodeArgs` are flags for node itself, or 'program' to run the file itself (see spawnCLI).
 */
export function startServe(args: string[], home: string, nodeArgs: string[] | 'program' = []): Promise<RunningCLI> {
  return waitUntilListening(spawnCLI(['serve', '--addr', '127.0.0.1:0', '--log-format', 'text', ...args], home, nodeArgs));
}

/**
 * Runs an example script with tsx, listening on a free port of 127.0.0.1;
 * `home` becomes HOME and holds its generated host keys.
 */
export function startExample(script: string, home: string, env: Record<string, string> = {}): Promise<RunningCLI> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache'), HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return waitUntilListening(child);
}

/** Waits for a server process's `listening on host:port` line on stderr. */
async function waitUntilListening(child: ChildProcess): Promise<RunningCLI> {
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  const exited = collectExit(child, output);
  exited.catch(() => {});
  let stopped: Promise<Exited> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    stopped ??= new Promise<Exited>((resolve, reject) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${child.spawnfile} ignored ${signal} for ${EXIT_TIMEOUT_MS} ms`));
      }, EXIT_TIMEOUT_MS);
      exited.then((result) => {
        clearTimeout(timer);
        resolve(result);
      }, reject);
    });
    return stopped;
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no "listening on" line within ${START_TIMEOUT_MS} ms; stderr:\n${output.stderr}`)), START_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      stop('SIGKILL').catch(() => {});
      reject(error);
    };
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      output.stderr += chunk;
      // A text line ends with the address; a JSON line has `"` after it.
      const match = /listening on (\S+?):(\d+)(?:"|$)/m.exec(output.stderr);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[2]));
      }
    });
    exited.then((result) => fail(new Error(`server process exited (code ${result.code}) before listening; stderr:\n${result.stderr}`)), fail);
  });
  const fingerprints = [...output.stderr.matchAll(/host key (\S+ SHA256:[^\s"]+)/g)].map((match) => match[1]!);
  const exitedByItself = () =>
    new Promise<Exited>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${child.spawnfile} did not exit by itself within ${EXIT_TIMEOUT_MS} ms`));
      }, EXIT_TIMEOUT_MS);
      exited.then((result) => {
        clearTimeout(timer);
        resolve(result);
      }, reject);
    });
  return { port, pid: child.pid!, fingerprints, stderr: () => output.stderr, stop, kill: (signal) => void child.kill(signal), exited: exitedByItself };
}

/**
 * Whether an external tool is installed. Missing: the test is skipped with a
 * loud reason, except in CI (CI set), where that is a failure.
 */
export function requireTool(t: TestContext, tool: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
  if (found) return true;
  if (process.env.CI) throw new Error(`${tool} is not installed, and CI requires it (.ci/run installs it)`);
  const reason = `SKIPPED: ${tool} is not installed; install it to run this test`;
  process.stderr.write(`\n*** ${reason} ***\n`);
  t.skip(reason);
  return false;
}

/** Makes an ed25519 key pair with ssh-keygen; returns the private key path (public is `.pub`). */
export function makeClientKey(dir: string, name = 'id_ed25519'): string {
  const path = join(dir, name);
  const result = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cli-test', '-f', path]);
  if (result.status !== 0) throw new Error(`ssh-keygen failed: ${result.stderr.toString()}`);
  return path;
}

/**
 * Runs OpenSSH `sftp` with key auth and the given commands on stdin. Without
 * `password` it runs in batch mode (`-b -`: the first failing command ends it
 * with a non-zero status). With `password`, the password is typed in by an
 * SSH_ASKPASS script (batch mode forbids password prompts), so the exit status
 * then only says whether the login worked; check the output for the rest.
 */
export async function runOpenSSHSftp(options: { port: number; user: string; identity: string; commands: string[]; cwd?: string; password?: string }): Promise<Exited> {
  const common = [
    '-F', '/dev/null', '-P', String(options.port), '-i', options.identity, '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
  ];
  const askpass = options.password === undefined ? undefined : await makeTempDir('sftp-expose-askpass-');
  try {
    let args = ['-b', '-', '-o', 'BatchMode=yes', ...common];
    let env = process.env;
    if (askpass) {
      const script = join(askpass.path, 'askpass.sh');
      await writeFile(script, '#!/bin/sh\nprintf "%s\\n" "$SFTP_TEST_PASSWORD"\n', { mode: 0o700 });
      args = ['-o', 'NumberOfPasswordPrompts=1', ...common];
      env = { ...process.env, SSH_ASKPASS: script, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: process.env.DISPLAY ?? ':0', SFTP_TEST_PASSWORD: options.password! };
    }
    // detached: no controlling terminal, so ssh can only ask the askpass program.
    const child = spawn('sftp', [...args, `${options.user}@127.0.0.1`], { cwd: options.cwd, env, detached: askpass !== undefined, stdio: ['pipe', 'pipe', 'pipe'] });
    const output = { stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
    child.stdin.end(options.commands.join('\n') + '\n');
    return await collectExit(child, output, EXIT_TIMEOUT_MS);
  } finally {
    await askpass?.cleanup();
  }
}

/** An SSH connection made with ssh2's Client, with the host key it was shown. */
export interface SSH2Connection {
  client: ssh2.Client;
  hostKey: Buffer;
  sftp(): Promise<ssh2.SFTPWrapper>;
  end(): void;
}

/** Connects with ssh2's Client; rejects when authentication fails. */
export function connectSSH2(config: Omit<ssh2.ConnectConfig, 'host' | 'hostVerifier'> & { port: number }): Promise<SSH2Connection> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKey: Buffer = Buffer.alloc(0);
    client.once('ready', () =>
      resolve({
        client,
        hostKey,
        sftp: () => new Promise((res, rej) => client.sftp((error, sftp) => (error ? rej(error) : res(sftp)))),
        end: () => client.end(),
      }),
    );
    client.once('error', reject);
    client.connect({
      host: '127.0.0.1',
      readyTimeout: 15_000,
      ...config,
      hostVerifier: (key: Buffer) => {
        hostKey = key;
        return true;
      },
    });
  });
}
