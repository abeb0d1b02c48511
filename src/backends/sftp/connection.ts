import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import type { ConnectConfig, SFTPWrapper } from 'ssh2';
import { StorageError } from '../../fs/errors.js';
import type { Logger } from '../../logger.js';
import { UpstreamConnectionLost } from './errors.js';
import { knownKeysFor, parseKnownHosts, preferredHostKeyAlgorithms, verifyHostKey, type KnownHostsEntry } from './knownHosts.js';

/** Where the upstream SFTP server is and how to log in to it. */
export interface UpstreamOptions {
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  password?: string;
  /** A private key (file contents, OpenSSH or PEM format). */
  privateKey?: string | Buffer;
  /** Passphrase of an encrypted `privateKey`. */
  passphrase?: string;
  /** An ssh-agent socket path (usually `process.env.SSH_AUTH_SOCK`). */
  agent?: string;
  /** known_hosts text the upstream's host key must be found in (OpenSSH format). */
  knownHosts?: string;
  /** A known_hosts file to read instead of `knownHosts`. */
  knownHostsFile?: string;
  /**
   * Accept whatever host key the upstream presents. Explicit by design:
   * without known hosts and without this flag, connecting is refused.
   */
  insecureSkipHostKeyCheck?: boolean;
  /** Give up connecting after this long (default 20 s). */
  readyTimeoutMs?: number;
  /** Probe an idle upstream this often, and drop it after 3 probes go unanswered (default 15 s; 0 disables). */
  keepaliveIntervalMs?: number;
}

/** Host key algorithms ssh2 can verify, best first (its own default order). */
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** An ssh2-style completion callback. */
export type Callback<T> = (error: Error | undefined | null, value?: T) => void;

/**
 * One SSH connection to the upstream and its SFTP channel. Every request
 * goes through `call`, which fails at once when the connection is gone and
 * fails everything in flight when it drops: ssh2 silently drops requests
 * written to a closed channel, so without this they would wait forever.
 */
export class UpstreamConnection {
  private readonly pending = new Set<(error: Error) => void>();
  private lostError?: UpstreamConnectionLost;

  private constructor(
    private readonly client: ssh2.Client,
    readonly sftp: SFTPWrapper,
    private readonly description: string,
    logger: Logger,
  ) {
    const lose = (reason: string) => {
      if (this.lostError) return;
      this.lostError = this.lostWith(reason);
      logger.warn('upstream SFTP connection lost', { upstream: description, reason });
      for (const reject of this.pending) reject(this.lostError);
      this.pending.clear();
      client.end();
    };
    client.on('error', (error) => lose(error.message));
    client.on('close', () => lose('connection closed'));
    client.on('end', () => lose('connection ended'));
    sftp.on('error', (error: Error) => lose(`SFTP channel error: ${error.message}`));
    sftp.on('close', () => lose('SFTP channel closed'));
    sftp.on('end', () => lose('SFTP channel ended'));
  }

  /** Connects, verifies the host key, logs in and opens the SFTP subsystem. */
  static async open(options: UpstreamOptions, logger: Logger): Promise<UpstreamConnection> {
    const port = options.port ?? 22;
    const description = `${options.username}@${options.host}:${port}`;
    const config: ConnectConfig = {
      host: options.host,
      port,
      username: options.username,
      password: options.password,
      privateKey: options.privateKey,
      passphrase: options.passphrase,
      agent: options.agent,
      readyTimeout: options.readyTimeoutMs ?? 20_000,
      keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: 3,
    };
    let hostKeyRefusal: string | undefined;
    if (!options.insecureSkipHostKeyCheck) {
      const entries = loadKnownHosts(options);
      const preferred = preferredHostKeyAlgorithms(knownKeysFor(entries, options.host, port)).filter((name) => HOST_KEY_ALGORITHMS.includes(name));
      if (preferred.length > 0) {
        config.algorithms = { serverHostKey: [...preferred, ...HOST_KEY_ALGORITHMS.filter((name) => !preferred.includes(name))] as never };
      }
      config.hostVerifier = (key: Buffer) => {
        const verdict = verifyHostKey(entries, options.host, port, key);
        if (!verdict.trusted) hostKeyRefusal = verdict.message;
        return verdict.trusted;
      };
    }
    const client = new ssh2.Client();
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('ready', () => resolve());
        client.once('error', reject);
        client.once('close', () => reject(new Error('connection closed during the handshake')));
        client.connect(config);
      });
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
        client.once('close', () => reject(new Error('connection closed before the SFTP channel opened')));
        client.sftp((error, channel) => (error ? reject(error) : resolve(channel)));
      });
      logger.debug('upstream SFTP connected', { upstream: description, extensions: extensionsOf(sftp) });
      return new UpstreamConnection(client, sftp, description, logger);
    } catch (error) {
      client.end();
      const reason = hostKeyRefusal ?? (error as Error).message;
      throw new StorageError(undefined, { message: `Cannot connect to upstream SFTP server ${description}: ${reason}`, cause: error });
    }
  }

  /** The error every request gets once the connection is gone; undefined while it is up. */
  get lost(): UpstreamConnectionLost | undefined {
    return this.lostError;
  }

  /** Whether the upstream advertised this SFTP extension with this version. */
  hasExtension(name: string, version = '1'): boolean {
    return extensionsOf(this.sftp)[name] === version;
  }

  /** Largest READ/WRITE payload the upstream accepts, as ssh2 learned it (limits@openssh.com) or assumes. */
  get maxReadLength(): number {
    return (this.sftp as unknown as { _maxReadLen?: number })._maxReadLen ?? 32 * 1024;
  }

  get maxWriteLength(): number {
    return (this.sftp as unknown as { _maxWriteLen?: number })._maxWriteLen ?? 32 * 1024;
  }

  /** Whether ssh2 takes the upstream for OpenSSH (it then sends SYMLINK's arguments in OpenSSH's order). */
  get isOpenSSH(): boolean {
    return (this.sftp as unknown as { _isOpenSSH?: boolean })._isOpenSSH === true;
  }

  /**
   * Whether the upstream reads the SYMLINK of an ssh2 client link first, as
   * ssh2 sends it to servers it does not take for OpenSSH: ssh2's own server
   * and sftp-expose do (src/sftp/symlinkOrder.ts), by the client's SSH
   * identification. Known by the upstream's software name.
   */
  get readsSsh2SymlinkLinkFirst(): boolean {
    const software = (this.client as unknown as { _remoteVer?: string })._remoteVer ?? '';
    return /^(?:ssh2js|sftp-expose)/.test(software);
  }

  /**
   * Runs one ssh2 request and settles with its callback; rejects at once when
   * the connection is lost, before or while the request is in flight.
   */
  call<T = void>(request: (callback: Callback<T>) => void): Promise<T> {
    if (this.lostError) return Promise.reject(this.lostError);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        this.pending.delete(fail);
        reject(error);
      };
      this.pending.add(fail);
      try {
        request((error, value) => {
          if (settled) return;
          if (error) return fail(isChannelGone(error) ? this.lostWith(error.message) : error);
          settled = true;
          this.pending.delete(fail);
          resolve(value as T);
        });
      } catch (error) {
        fail(error as Error);
      }
    });
  }

  private lostWith(reason: string): UpstreamConnectionLost {
    return this.lostError ?? new UpstreamConnectionLost(undefined, { message: `Upstream connection lost (${this.description}: ${reason})` });
  }

  /** Ends the connection; requests still in flight fail with the connection-lost error. */
  close(): void {
    this.client.end();
  }
}

/** ssh2 answers requests still in flight with this (no status code) when the channel ends under them. */
function isChannelGone(error: Error): boolean {
  return typeof (error as { code?: unknown }).code !== 'number' && error.message === 'No response from server';
}

function extensionsOf(sftp: SFTPWrapper): Record<string, string> {
  return (sftp as unknown as { _extensions?: Record<string, string> })._extensions ?? {};
}

function loadKnownHosts(options: UpstreamOptions): KnownHostsEntry[] {
  let text = options.knownHosts;
  if (options.knownHostsFile !== undefined) {
    try {
      text = readFileSync(options.knownHostsFile, 'utf8');
    } catch (error) {
      throw new StorageError(undefined, { message: `Cannot read known_hosts file ${options.knownHostsFile}: ${(error as Error).message}`, cause: error });
    }
  }
  if (text === undefined) {
    throw new StorageError(undefined, {
      message: `No known_hosts for upstream ${options.host}: give knownHosts/knownHostsFile, or set insecureSkipHostKeyCheck to connect without verifying its host key`,
    });
  }
  return parseKnownHosts(text);
}
