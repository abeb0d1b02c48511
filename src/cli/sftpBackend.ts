import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { SFTPFS, type SFTPFSOptions } from '../backends/sftp/SFTPFS.js';
import type { Logger } from '../logger.js';
import { UsageError, expandHome } from './serveOptions.js';

type Flags = Readonly<Record<string, string | boolean | string[] | undefined>>;

function flagOrEnv(flags: Flags, flag: string, env: string): string | undefined {
  const value = flags[flag];
  if (typeof value === 'string') return value;
  return process.env[env] || undefined;
}

/** OpenSSH's own file, used when no --sftp-known-hosts-file is given and it exists. */
const DEFAULT_KNOWN_HOSTS = '~/.ssh/known_hosts';

/**
 * The upstream's directory from the URL path: `/path` is absolute, `/~/path`
 * (or `/~`) starts at the login directory, nothing or `/` is the upstream's `/`.
 */
export function rootFromUrlPath(pathname: string): string {
  const path = decodeURIComponent(pathname);
  if (path === '/~' || path === '/~/') return '.';
  if (path.startsWith('/~/')) return path.slice(3);
  return path === '' ? '/' : path;
}

/**
 * Turns `sftp://[user[:pass]@]host[:port]/path` and the --sftp-* flags into
 * SFTPFS options. The password comes from --sftp-pass, SFTP_EXPOSE_SFTP_PASS
 * or the URL; the user defaults to the local user name, as ssh's does.
 */
export function parseSftpBackend(spec: string, flags: Flags): SFTPFSOptions {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new UsageError(`invalid SFTP backend "${spec}": expected sftp://user@host:port/path`);
  }
  if (url.protocol.toLowerCase() !== 'sftp:' || url.hostname === '') {
    throw new UsageError(`invalid SFTP backend "${spec}": expected sftp://user@host:port/path`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 22 : Number(url.port);
  const keyFile = flagOrEnv(flags, 'sftp-key-file', 'SFTP_EXPOSE_SFTP_KEY_FILE');
  const knownHostsFlag = flagOrEnv(flags, 'sftp-known-hosts-file', 'SFTP_EXPOSE_SFTP_KNOWN_HOSTS_FILE');
  const skipCheck = flags['sftp-insecure-skip-host-key-check'] === true;
  if (skipCheck && knownHostsFlag !== undefined) throw new UsageError('give --sftp-known-hosts-file or --sftp-insecure-skip-host-key-check, not both');

  const options: SFTPFSOptions = {
    host,
    port,
    username: decodeURIComponent(url.username) || userInfo().username,
    password: flagOrEnv(flags, 'sftp-pass', 'SFTP_EXPOSE_SFTP_PASS') ?? (decodeURIComponent(url.password) || undefined),
    passphrase: flagOrEnv(flags, 'sftp-key-file-pass', 'SFTP_EXPOSE_SFTP_KEY_FILE_PASS'),
    root: rootFromUrlPath(url.pathname),
    insecureSkipHostKeyCheck: skipCheck,
  };
  if (keyFile !== undefined) {
    try {
      options.privateKey = readFileSync(expandHome(keyFile));
    } catch (error) {
      throw new UsageError(`cannot read --sftp-key-file ${keyFile}: ${(error as Error).message}`);
    }
  }
  // As rclone: the agent when asked for, or when nothing else would log in.
  const wantsAgent = flags['sftp-key-use-agent'] === true || (options.privateKey === undefined && options.password === undefined);
  if (wantsAgent && process.env.SSH_AUTH_SOCK) options.agent = process.env.SSH_AUTH_SOCK;
  if (flags['sftp-key-use-agent'] === true && !options.agent) throw new UsageError('--sftp-key-use-agent: SSH_AUTH_SOCK is not set');
  if (!skipCheck) {
    const file = expandHome(knownHostsFlag ?? DEFAULT_KNOWN_HOSTS);
    if (!existsSync(file)) {
      throw new UsageError(
        knownHostsFlag !== undefined
          ? `known hosts file not found: ${knownHostsFlag}`
          : `no ${DEFAULT_KNOWN_HOSTS} to check the upstream's host key against: give --sftp-known-hosts-file, or --sftp-insecure-skip-host-key-check to accept any key`,
      );
    }
    options.knownHostsFile = file;
  }
  return options;
}

/**
 * Opens the `sftp://` backend for the CLI: connects once at start, so a wrong
 * host, key or password stops the CLI with a clear message. Every client of
 * the CLI shares this one upstream connection (it reconnects after a drop).
 */
export async function openSftpBackend(spec: string, flags: Flags, logger: Logger): Promise<SFTPFS> {
  const options = parseSftpBackend(spec, flags);
  if (options.insecureSkipHostKeyCheck) logger.warn(`--sftp-insecure-skip-host-key-check: the host key of ${options.host} is not verified`);
  return SFTPFS.connect({ ...options, logger });
}
