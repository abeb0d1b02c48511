import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DefenceOptions } from '../server/defence/Defence.js';
import { DEFENCE_USAGE, defenceFlags, parseDefenceFlags } from './defenceFlags.js';
import type { LogLevel } from '../logger.js';
import { LOG_FORMATS, defaultLogFormat, type LogFormat } from '../observability/pinoLogger.js';

/** A bad command line: reported as one line plus a usage hint, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  /** @param command The subcommand whose `--help` the hint points to; empty for the top level. */
  constructor(message: string, readonly command = 'serve') {
    super(message);
  }
}

/** Where to listen: `host` empty means every interface. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** The `serve` command line, validated. */
export interface ServeOptions {
  /** The BACKEND argument as given (undefined: the in-memory default). */
  backend?: string;
  address: ListenAddress;
  /** Host key files (empty: generate and cache in `stateDir`). */
  hostKeyFiles: string[];
  /** An authorized_keys file to accept, if any (the default one only when it exists). */
  authorizedKeysFile?: string;
  user?: string;
  password?: string;
  noAuth: boolean;
  readOnly: boolean;
  logLevel: LogLevel;
  /** `--log-format`; default pretty on a terminal, JSON otherwise. */
  logFormat: LogFormat;
  /** One log line per transfer and change (on unless `--no-access-log`). */
  accessLog: boolean;
  /** `--metrics-addr`: where to serve Prometheus metrics at /metrics. */
  metricsAddress?: ListenAddress;
  /** `--shutdown-timeout`: how long SIGTERM lets transfers in progress finish. */
  shutdownTimeoutMs: number;
  stateDir?: string;
  /** Speak SFTP on stdin/stdout (as an OpenSSH subsystem or `sftp -D`) instead of listening. */
  stdio: boolean;
  /** A mount table file (`--mounts`) to serve instead of one BACKEND. */
  mountsFile?: string;
  /** Server processes (`--workers`): above 1, a cluster sharing the listening socket. */
  workers: number;
  /** Users, keys and homes from this file (`--config`, see docs/configuration.md). */
  configFile?: string;
  /** A program that authenticates users and picks their backend (`--auth-proxy`, rclone's protocol). */
  authProxy?: string;
  /** Bans, connection limits, timers, `--bwlimit`, PROXY protocol (docs/defence.md). */
  defence: DefenceOptions;
  /** Every flag as parsed, for backends to read their own (`webdav-user`...). */
  backendFlags: Readonly<Record<string, string | boolean | string[] | undefined>>;
}

export const DEFAULT_ADDRESS = 'localhost:2022';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** Flag names and kinds as `rclone serve sftp` has them, so its users feel at home. */
const serveFlags = {
  addr: { type: 'string' },
  key: { type: 'string', multiple: true },
  'authorized-keys': { type: 'string' },
  user: { type: 'string' },
  pass: { type: 'string' },
  'no-auth': { type: 'boolean' },
  'read-only': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'no-access-log': { type: 'boolean' },
  'metrics-addr': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  'state-dir': { type: 'string' },
  stdio: { type: 'boolean' },
  mounts: { type: 'string' },
  workers: { type: 'string' },
  config: { type: 'string' },
  'auth-proxy': { type: 'string' },
  'atomic-uploads': { type: 'boolean' },
  'webdav-user': { type: 'string' },
  'webdav-pass': { type: 'string' },
  'webdav-bearer-token': { type: 'string' },
  'sftp-key-file': { type: 'string' },
  'sftp-key-file-pass': { type: 'string' },
  'sftp-key-use-agent': { type: 'boolean' },
  'sftp-pass': { type: 'string' },
  'sftp-known-hosts-file': { type: 'string' },
  'sftp-insecure-skip-host-key-check': { type: 'boolean' },
  's3-endpoint': { type: 'string' },
  's3-region': { type: 'string' },
  's3-force-path-style': { type: 'boolean' },
  's3-access-key-id': { type: 'string' },
  's3-secret-access-key': { type: 'string' },
  's3-chunk-size': { type: 'string' },
  's3-upload-concurrency': { type: 'string' },
  's3-storage-class': { type: 'string' },
  's3-server-side-encryption': { type: 'string' },
  's3-sse-kms-key-id': { type: 'string' },
  's3-use-server-modtime': { type: 'boolean' },
  's3-use-unsigned-payload': { type: 'string' },
  'ca-cert': { type: 'string', multiple: true },
  ...defenceFlags,
  help: { type: 'boolean', short: 'h' },
} as const;

export const SERVE_USAGE = `Usage: sftp-expose serve [BACKEND] [flags]

Serve BACKEND over SFTP. BACKEND is a local folder, or memory: (the default,
an empty in-memory filesystem that lives as long as the server).

Flags:
      --addr string              IPaddress:Port or :Port to bind to (default "${DEFAULT_ADDRESS}")
      --key string               SSH host private key file, repeatable (default: generate once and cache)
      --authorized-keys string   Authorized keys file (default "~/.ssh/authorized_keys", if it exists)
      --user string              User name for authentication
      --pass string              Password for authentication (needs --user)
      --no-auth                  Allow connections with no authentication
      --read-only                Refuse every change to the filesystem
  -v, --verbose                  Debug logs (same as --log-level debug)
      --log-level string         debug, info, warn, error or silent (default "info")
      --log-format string        json, text or pretty (default: pretty when stderr is a terminal, else json)
      --no-access-log            No access log (default: one info line per transfer, listing and change)
      --metrics-addr string      Serve Prometheus metrics at http://IPaddress:Port/metrics (default: off)
      --shutdown-timeout duration  How long SIGTERM/SIGINT let transfers in progress finish before
                                 sessions are ended, e.g. 30s, 2m, 0 (default "30s"); SIGHUP reloads
      --state-dir string         Where generated host keys are cached (default "~/.cache/sftp-expose")
      --stdio                    Speak SFTP on stdin/stdout: for OpenSSH's "Subsystem sftp", a
                                 command= in authorized_keys, or "sftp -D" (no SSH, no auth flags)
      --workers n                Server processes sharing the port, sessions spread over them,
                                 to use several cores (default 1; not with --stdio, memory:
                                 or --metrics-addr)
      --config string            Users (password hashes, keys, homes, permissions...) from a YAML or
                                 JSON file (docs/configuration.md); SIGHUP re-reads it. No BACKEND then
      --auth-proxy string        A program that authenticates users and returns their backend
                                 (rclone's --auth-proxy protocol, docs/authentication.md)
      --mounts string            Serve a mount table: a JSON file mapping mount points to BACKENDs
                                 (see docs/composing-filesystems.md); no BACKEND argument then
      --atomic-uploads           Local folders: write each upload under a hidden name and rename it
                                 into place when complete (an interrupted one is deleted, not resumable)
      --webdav-user string       WebDAV user name (or SFTP_EXPOSE_WEBDAV_USER)
      --webdav-pass string       WebDAV password, plain text (or SFTP_EXPOSE_WEBDAV_PASS)
      --webdav-bearer-token string  WebDAV bearer token instead of user/pass (or SFTP_EXPOSE_WEBDAV_BEARER_TOKEN)
      --sftp-key-file string     Private key for the sftp:// upstream (or SFTP_EXPOSE_SFTP_KEY_FILE)
      --sftp-key-file-pass string  Passphrase of that key (or SFTP_EXPOSE_SFTP_KEY_FILE_PASS)
      --sftp-key-use-agent       Log in to the upstream with ssh-agent (SSH_AUTH_SOCK); the default
                                 when neither key nor password is given
      --sftp-pass string         Upstream password, plain text (or SFTP_EXPOSE_SFTP_PASS)
      --sftp-known-hosts-file string  known_hosts file the upstream's host key must be in
                                 (default "~/.ssh/known_hosts"; without one the upstream is refused)
      --sftp-insecure-skip-host-key-check  Accept any upstream host key (man-in-the-middle risk)
      --s3-endpoint string       S3-compatible endpoint URL, e.g. http://127.0.0.1:9000 (or AWS_ENDPOINT_URL_S3)
      --s3-region string         S3 region (or AWS_REGION; default us-east-1 with --s3-endpoint)
      --s3-force-path-style      Address buckets as endpoint/bucket (MinIO, Ceph and most non-AWS servers)
      --s3-access-key-id string  S3 access key (default: AWS_ACCESS_KEY_ID, profiles, instance roles)
      --s3-secret-access-key string  S3 secret key (with --s3-access-key-id; or AWS_SECRET_ACCESS_KEY)
      --s3-chunk-size size       Multipart part size, at least 5M (default 8M)
      --s3-upload-concurrency n  Parts uploaded at once per file (default 4)
      --s3-storage-class string  Storage class of new objects (STANDARD, STANDARD_IA, ...)
      --s3-server-side-encryption string  AES256 or aws:kms (key from --s3-sse-kms-key-id)
      --s3-use-server-modtime    List with S3's upload times, no HEAD per entry (faster; ignores set mtimes)
      --s3-use-unsigned-payload true|false  Sign uploads without hashing their bytes (UNSIGNED-PAYLOAD);
                                 default: unsigned over https://, signed over http://
      --ca-cert file             PEM CA certificate(s) to trust for S3 and WebDAV endpoints besides the system's
                                 (a private CA, a self-signed MinIO or WebDAV server); repeatable
${DEFENCE_USAGE}
  -h, --help                     Show this help

A way to authenticate is required: --user/--pass, an authorized keys file, or --no-auth
(except with --stdio, where whoever runs the program, e.g. sshd, has authenticated the user).
--user with authorized keys (and no --pass) restricts key logins to that user name.`;

/** Expands a leading `~` as a shell would, since the default itself is written that way. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/**
 * Parses `host:port`, `:port` (every interface) or `[v6]:port`. Port 0 asks
 * the OS for a free port.
 */
export function parseListenAddress(text: string, flag = '--addr'): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text);
  if (!match) throw new UsageError(`invalid ${flag} "${text}": expected host:port, :port or [ipv6]:port`);
  const port = Number(match[3]);
  if (!Number.isInteger(port) || port > 65535) throw new UsageError(`invalid ${flag} "${text}": port must be 0-65535`);
  return { host: match[1] ?? match[2] ?? '', port };
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration as rclone writes them (`30s`, `1m30s`, `500ms`, `0`); a bare number is seconds. */
export function parseDuration(text: string, flag: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) {
    throw new UsageError(`invalid ${flag} "${text}": expected a duration such as 30s, 2m, 1m30s or 500ms`);
  }
  return parts.reduce((total, part) => total + Number(part[1]) * durationUnits[part[2]!]!, 0);
}

/** Formats an address for logs, bracketing IPv6 as `--addr` accepts it. */
export function formatListenAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Parses and validates the arguments after `serve`; throws UsageError for
 * anything wrong. `'help'` when help was asked for (nothing else is checked then).
 */
export function parseServeOptions(args: string[]): ServeOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args, options: serveFlags, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs appends advice about "--" that only confuses; the first sentence is the point.
    throw new UsageError((error as Error).message.split(/\. To specify|\n/)[0]!);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length > 1) throw new UsageError(`expected at most one BACKEND, got ${positionals.length}: ${positionals.join(' ')}`);

  let logLevel: LogLevel = values.verbose ? 'debug' : 'info';
  if (values['log-level'] !== undefined) {
    if (!LOG_LEVELS.includes(values['log-level'] as LogLevel)) {
      throw new UsageError(`invalid --log-level "${values['log-level']}": expected one of ${LOG_LEVELS.join(', ')}`);
    }
    logLevel = values['log-level'] as LogLevel;
  }

  const logFormat = values['log-format'] ?? defaultLogFormat();
  if (!LOG_FORMATS.includes(logFormat as LogFormat)) throw new UsageError(`invalid --log-format "${logFormat}": expected one of ${LOG_FORMATS.join(', ')}`);

  if (values.pass !== undefined && values.user === undefined) throw new UsageError('--pass needs --user');
  if (values.user === '') throw new UsageError('--user must not be empty');
  if (values.pass === '') throw new UsageError('--pass must not be empty');

  const hostKeyFiles = (values.key ?? []).map(expandHome);
  for (const file of hostKeyFiles) if (!existsSync(file)) throw new UsageError(`host key file not found: ${file}`);

  if (values.mounts !== undefined && positionals.length > 0) throw new UsageError(`--mounts serves a mount table: drop the BACKEND argument (${positionals[0]})`);
  if (values.mounts !== undefined && !existsSync(expandHome(values.mounts))) throw new UsageError(`mount table file not found: ${values.mounts}`);

  checkMultiUserFlags(values, positionals);
  // What the workers would share: a mount table, the users of --config/--auth-proxy (their backends checked in runMultiUser), or BACKEND.
  const served = values.mounts !== undefined ? 'mount table' : values.config !== undefined || values['auth-proxy'] !== undefined ? 'users' : positionals[0];
  const workers = parseWorkers(values.workers, values.stdio ?? false, served, values['metrics-addr'] !== undefined);

  return {
    backend: positionals[0],
    address: parseListenAddress(values.addr ?? DEFAULT_ADDRESS),
    hostKeyFiles,
    authorizedKeysFile: authorizedKeysFile(values['authorized-keys']),
    user: values.user,
    password: values.pass,
    noAuth: values['no-auth'] ?? false,
    readOnly: values['read-only'] ?? false,
    logLevel,
    logFormat: logFormat as LogFormat,
    accessLog: !(values['no-access-log'] ?? false),
    metricsAddress: values['metrics-addr'] !== undefined ? parseListenAddress(values['metrics-addr'], '--metrics-addr') : undefined,
    shutdownTimeoutMs: values['shutdown-timeout'] !== undefined ? parseDuration(values['shutdown-timeout'], '--shutdown-timeout') : 30_000,
    stateDir: values['state-dir'] !== undefined ? expandHome(values['state-dir']) : undefined,
    stdio: values.stdio ?? false,
    mountsFile: values.mounts !== undefined ? expandHome(values.mounts) : undefined,
    workers,
    configFile: values.config !== undefined ? expandHome(values.config) : undefined,
    authProxy: values['auth-proxy'],
    defence: parseDefenceFlags(values, { parseDuration, usageError: (message) => new UsageError(message) }),
    backendFlags: values,
  };
}

/** --config and --auth-proxy bring their own users and backends: the single-user flags make no sense with them. */
function checkMultiUserFlags(values: Record<string, unknown>, positionals: string[]): void {
  const flag = values.config !== undefined ? '--config' : values['auth-proxy'] !== undefined ? '--auth-proxy' : undefined;
  if (flag === undefined) return;
  if (values.config !== undefined && !existsSync(expandHome(values.config as string))) throw new UsageError(`config file not found: ${values.config}`);
  if (values['auth-proxy'] === '') throw new UsageError('--auth-proxy needs a program');
  const clash = ['user', 'pass', 'no-auth', 'authorized-keys', 'mounts', 'read-only', 'stdio'].find((name) => values[name] !== undefined);
  if (clash !== undefined) throw new UsageError(`--${clash} cannot be used with ${flag}: users and their filesystems come from ${flag === '--config' ? 'the config file' : 'the proxy program'}`);
  if (positionals.length > 0) throw new UsageError(`${flag}: drop the BACKEND argument (${positionals[0]}); each user's home comes from ${flag === '--config' ? 'the config file' : 'the proxy program'}`);
}

/** `--workers`: a count, refused where workers cannot share what they serve (or report: `metrics`, --metrics-addr given). */
function parseWorkers(text: string | undefined, stdio: boolean, backend: string | undefined, metrics: boolean): number {
  if (text === undefined) return 1;
  const workers = Number(text);
  if (!/^\d+$/.test(text) || workers < 1 || workers > 256) throw new UsageError(`invalid --workers "${text}": expected a number from 1 to 256`);
  if (workers === 1) return 1;
  if (stdio) throw new UsageError('--workers needs a TCP listener: --stdio serves one session on stdin/stdout');
  if (backend === undefined || backend === 'memory:') {
    throw new UsageError('--workers with memory: would give each worker its own in-memory filesystem (a file uploaded in one session would be missing in the next); serve a folder or another shared backend');
  }
  if (metrics) throw new UsageError('--metrics-addr with --workers: each worker process would count only its own sessions; serve metrics from one process (no --workers)');
  return workers;
}

/** The default file is optional (as sshd's); a file named explicitly must exist. */
function authorizedKeysFile(given: string | undefined): string | undefined {
  if (given === undefined) {
    const fallback = expandHome('~/.ssh/authorized_keys');
    return existsSync(fallback) ? fallback : undefined;
  }
  const file = expandHome(given);
  if (!existsSync(file)) throw new UsageError(`authorized keys file not found: ${file}`);
  return file;
}
