import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../../logger.js';
import { backendFromRcloneConfig, type BackendRequest, type RcloneConfig } from './proxyBackend.js';

/** What the program is told about a login attempt (rclone's input, exactly). */
export interface AuthProxyRequest {
  user: string;
  /** The password, for password logins. */
  pass?: string;
  /** The public key blob in base64 (SSH wire format), for key logins. */
  publicKey?: string;
  clientIp: string;
}

/** A login the program accepted. */
export interface AuthProxyLogin {
  /** Identifies the cached backend: user + a keyed hash of the credential and client IP. */
  cacheKey: string;
  backend: BackendRequest;
}

export interface AuthProxyOptions {
  /** The program and its arguments, separated by spaces (as rclone's --auth-proxy). */
  command: string;
  /** How long the program may run before the login is denied (default 10 s). */
  timeoutMs?: number;
  /** How long an accepted login is remembered (default 5 minutes, as rclone). */
  cacheTtlMs?: number;
  /** Largest output read from the program (default 1 MiB). */
  maxOutputBytes?: number;
  logger?: Logger;
  /** The clock, in ms (tests inject one). */
  now?: () => number;
}

/** The program's answer could not be used; the message is the logged reason. */
export class AuthProxyFailure extends Error {
  override name = 'AuthProxyFailure';
}

/**
 * Runs an external program to authenticate users and choose their backend,
 * compatible with `rclone serve sftp --auth-proxy`: it gets
 * `{"user","pass","client_ip"}` or `{"user","public_key","client_ip"}` as
 * JSON on stdin and prints an rclone backend config (`type`, `_root`,
 * `_obscure`, options) as JSON on stdout. Exiting non-zero denies the login.
 *
 * Accepted logins are cached for `cacheTtlMs`, keyed (as rclone keys them)
 * by the user and an HMAC of the password or key and the client IP, so a
 * changed password, key or address runs the program again. Failures are not
 * cached.
 */
export class AuthProxy {
  private readonly argv: string[];
  private readonly cache = new Map<string, { login: AuthProxyLogin; expiresAt: number }>();
  /** Per-process HMAC key: cache keys can appear in logs without exposing a password hash to offline guessing. */
  private readonly hmacKey = randomBytes(32);
  private readonly logger: Logger;
  private readonly now: () => number;
  /** Called with a cache key when its entry expires, so the backend opened for it can be closed. */
  onExpire?: (cacheKey: string) => void;

  constructor(private readonly options: AuthProxyOptions) {
    this.argv = options.command.trim().split(/\s+/);
    if (this.argv[0] === '') throw new Error('--auth-proxy: empty command');
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  private cacheKeyOf(request: AuthProxyRequest): string {
    const mac = createHmac('sha256', this.hmacKey);
    mac.update(request.publicKey !== undefined ? `k:${request.publicKey}` : `p:${request.pass ?? ''}`);
    mac.update('\0');
    mac.update(request.clientIp);
    return `${request.user}-${mac.digest('hex').slice(0, 16)}`;
  }

  /** Drops expired entries, telling onExpire. */
  private prune(): void {
    const now = this.now();
    for (const [key, entry] of this.cache) {
      if (entry.expiresAt > now) continue;
      this.cache.delete(key);
      this.onExpire?.(key);
    }
  }

  /** The cached login for this cache key, if it has not expired. */
  cached(cacheKey: string): AuthProxyLogin | undefined {
    this.prune();
    return this.cache.get(cacheKey)?.login;
  }

  /** Accepts or denies a login; a denial is logged with its reason and resolves undefined. */
  async authenticate(request: AuthProxyRequest): Promise<AuthProxyLogin | undefined> {
    this.prune();
    const cacheKey = this.cacheKeyOf(request);
    const hit = this.cache.get(cacheKey);
    if (hit) return hit.login;
    try {
      const config = await this.run(request);
      const login = { cacheKey, backend: backendFromRcloneConfig(config) };
      this.cache.set(cacheKey, { login, expiresAt: this.now() + (this.options.cacheTtlMs ?? 5 * 60_000) });
      return login;
    } catch (error) {
      this.logger.warn('auth proxy denied the login', { username: request.user, client: request.clientIp, reason: (error as Error).message });
      return undefined;
    }
  }

  /** Runs the program once; resolves with its config or rejects with why it cannot be used. */
  private run(request: AuthProxyRequest): Promise<RcloneConfig> {
    const input: Record<string, string> = { user: request.user };
    if (request.publicKey !== undefined) input.public_key = request.publicKey;
    else input.pass = request.pass ?? '';
    input.client_ip = request.clientIp;
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const maxOutput = this.options.maxOutputBytes ?? 1 << 20;
    return new Promise((resolve, reject) => {
      const child = spawn(this.argv[0]!, this.argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let stderr = '';
      let failure: string | undefined;
      const timer = setTimeout(() => {
        failure = `the program did not answer within ${timeoutMs} ms`;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        stdoutBytes += chunk.length;
        if (stdoutBytes > maxOutput) {
          failure ??= `the program printed more than ${maxOutput} bytes`;
          child.kill('SIGKILL');
        } else stdout.push(chunk);
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
      // A program that exits without reading its input must not crash us with EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(JSON.stringify(input, null, '\t'));
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new AuthProxyFailure(`cannot run ${this.argv[0]}: ${error.message}`));
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (failure) return reject(new AuthProxyFailure(failure));
        if (code !== 0) return reject(new AuthProxyFailure(`the program ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
        try {
          resolve(parseOutput(Buffer.concat(stdout).toString('utf8')));
        } catch (error) {
          reject(error);
        }
      });
    });
  }
}

/** The program's stdout: a JSON object of scalar values (rclone's configmap), with `type` and `_root`. */
function parseOutput(text: string): RcloneConfig {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new AuthProxyFailure(`the program printed invalid JSON (${(error as Error).message}): ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new AuthProxyFailure('the program printed JSON that is not an object');
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'string') config[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') config[key] = String(value);
    else throw new AuthProxyFailure(`"${key}" in the program's output is not a string`);
  }
  if (config.type === undefined) throw new AuthProxyFailure('"type" not set in the program\'s output');
  if (config._root === undefined) throw new AuthProxyFailure('"_root" not set in the program\'s output');
  return config;
}
