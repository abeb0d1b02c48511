import { LocalFS } from '../backends/local.js';
import { MemoryFS } from '../backends/memory.js';
import type { FS } from '../fs/FS.js';
import type { BandwidthLimit } from './defence/bandwidth.js';
import { MountFS } from '../fs/wrappers/mount.js';
import { PermissionsFS } from '../fs/wrappers/permissions.js';
import { ReadOnlyFS } from '../fs/wrappers/readonly.js';
import { AuthResult, safeEqual, type AuthMethod, type PublicKey } from '../ssh/auth.js';
import { BaseSFTPServer, type AuthAttempt, type BaseSFTPServerOptions, type InteractivePrompter, type SessionInfo } from '../ssh/BaseSFTPServer.js';
import { refusalReason } from './auth/authorizedKeys.js';
import { AuthProxy, type AuthProxyLogin } from './auth/authProxy.js';
import { verifyAgainstDummy, verifyPassword } from './auth/passwordHash.js';
import type { BackendRequest } from './auth/proxyBackend.js';
import { TotpVerifier } from './auth/totp.js';
import type { ServerConfig, UserAccount } from './config/loadConfig.js';
import { userBackendSpecs } from './config/userBackends.js';
import { KeyedCounts } from './KeyedCounts.js';
import { SharedBackends, type BackendLease } from './sharedBackends.js';

/** Opens a BACKEND string with its flags (the CLI passes its own, which knows every scheme). */
export type BackendOpener = (request: BackendRequest) => Promise<FS>;

export interface MultiUserServerOptions extends BaseSFTPServerOptions {
  /** The users (see loadConfig); replaced later with {@link MultiUserServer.reload}. */
  config: ServerConfig;
  /**
   * Opens the backends users' homes and mounts name. Default: `memory:` and
   * absolute local folders only.
   */
  openBackend?: BackendOpener;
  /** Users the config does not list are asked of this program (see AuthProxy). */
  authProxy?: AuthProxy;
  /** The clock for TOTP, in ms (tests inject one). */
  now?: () => number;
}

/** The default opener: no remote backends without the CLI's table. */
async function openBasicBackend({ spec, flags }: BackendRequest): Promise<FS> {
  if (spec.toLowerCase() === 'memory:') return new MemoryFS();
  if (spec.startsWith('/')) return new LocalFS({ root: spec, atomicUploads: flags['atomic-uploads'] === true });
  throw new Error(`cannot open backend "${spec}": pass openBackend to MultiUserServer for anything but memory: and absolute folders`);
}

/** What a session's FS was built from, to give back when it ends. */
interface SessionHold {
  username: string;
  leases: BackendLease[];
}

/**
 * A server for many users from a config file (see docs/configuration.md), or
 * an auth proxy program for users it does not list — built only on the hooks
 * of {@link BaseSFTPServer}, as an example of subclassing it:
 *
 * - getAllowedAuths / checkAuthPassword / checkAuthPublickey: hashes,
 *   authorized keys with `from=`, allowed networks; with TOTP configured the
 *   first factor is PARTIALLY_SUCCESSFUL and checkAuthInteractive asks for the code.
 * - getFS: the user's home and mounts (opened once, shared by their sessions),
 *   wrapped in PermissionsFS and ReadOnlyFS as configured; max sessions enforced.
 * - releaseFS: gives the backends back; one a reload retired closes when its last session ends.
 * - reload(config): new users and keys take effect for the next login; sessions in progress go on.
 */
export class MultiUserServer extends BaseSFTPServer {
  private config: ServerConfig;
  private readonly backends: SharedBackends;
  private readonly openBackend: BackendOpener;
  /** Sessions open per user name (shared across `serve --workers`, see src/cluster/sharedCounts.ts), for `maxSessions`. */
  readonly sessionCounts = new KeyedCounts();
  private readonly holds = new Map<FS, SessionHold>();
  /** TOTP verifiers by user and secret: kept across reloads so a used code stays used. */
  private totpVerifiers = new Map<string, TotpVerifier>();
  /** Proxy logins by connection (`user@ip:port`), for getFS to find the backend the program chose. */
  private readonly proxyLogins = new Map<string, AuthProxyLogin>();

  constructor(protected override readonly options: MultiUserServerOptions) {
    super(options);
    this.config = options.config;
    this.backends = new SharedBackends(this.logger);
    this.openBackend = options.openBackend ?? openBasicBackend;
    if (options.authProxy) options.authProxy.onExpire = (cacheKey) => this.onProxyLoginExpired(cacheKey);
  }

  /** A configured user (with bandwidth limits and the rest), or undefined. */
  userAccount(username: string): UserAccount | undefined {
    return this.config.users.get(username);
  }

  /**
   * Swaps in a new config: logins from now on use its users and keys.
   * Sessions in progress keep the filesystem they have; a backend no user
   * of the new config names is closed when its last session ends.
   */
  reload(config: ServerConfig): void {
    this.config = config;
    const keep = new Set<string>();
    for (const user of config.users.values()) for (const spec of userBackendSpecs(user)) keep.add(backendKey(user.name, spec));
    this.backends.retireAllBut((key) => keep.has(key) || key.startsWith('proxy:'));
    this.logger.info('configuration reloaded', { source: config.source, users: config.users.size });
  }

  // Authentication.

  override getAllowedAuths(username: string, attempt: AuthAttempt): AuthMethod[] {
    const user = this.config.users.get(username);
    const firstFactorDone = attempt.completedMethods.some((method) => method === 'password' || method === 'publickey');
    if (user?.totp && firstFactorDone) return ['keyboard-interactive'];
    // The same methods for every name, so they do not tell which users exist.
    return ['publickey', 'password'];
  }

  /** False (logged) when the user may not connect from this address. */
  private networkAllows(user: UserAccount, attempt: AuthAttempt): boolean {
    if (!user.allowedNetworks || user.allowedNetworks.contains(attempt.clientAddress)) return true;
    this.logger.warn('login refused: client address not in allowedNetworks', { username: user.name, client: attempt.clientAddress });
    return false;
  }

  /** SUCCESSFUL, or PARTIALLY_SUCCESSFUL when a TOTP code is still to come. */
  private firstFactorPassed(user: UserAccount): AuthResult {
    return user.totp ? AuthResult.PARTIALLY_SUCCESSFUL : AuthResult.SUCCESSFUL;
  }

  override async checkAuthPassword(username: string, password: string, attempt: AuthAttempt): Promise<AuthResult> {
    const user = this.config.users.get(username);
    if (!user) return this.checkProxy(username, { pass: password }, attempt);
    if (!this.networkAllows(user, attempt)) return AuthResult.FAILED;
    let matches: boolean;
    if (user.passwordHash !== undefined) matches = await verifyPassword(password, user.passwordHash);
    else if (user.plaintextPassword !== undefined) matches = safeEqual(password, user.plaintextPassword);
    else matches = await verifyAgainstDummy(password);
    return matches ? this.firstFactorPassed(user) : AuthResult.FAILED;
  }

  override async checkAuthPublickey(username: string, key: PublicKey, attempt: AuthAttempt): Promise<AuthResult> {
    const user = this.config.users.get(username);
    if (!user) return this.checkProxy(username, { publicKey: key.data.toString('base64') }, attempt);
    if (!this.networkAllows(user, attempt)) return AuthResult.FAILED;
    const entry = user.authorizedKeys.find((candidate) => candidate.key.algorithm === key.algorithm && candidate.key.data.equals(key.data));
    if (!entry) return AuthResult.FAILED;
    const refusal = refusalReason(entry, attempt.clientAddress);
    if (refusal !== undefined) {
      this.logger.warn('key refused', { username, client: attempt.clientAddress, reason: refusal });
      return AuthResult.FAILED;
    }
    return this.firstFactorPassed(user);
  }

  override async checkAuthInteractive(username: string, prompt: InteractivePrompter, attempt: AuthAttempt): Promise<AuthResult> {
    const user = this.config.users.get(username);
    if (!user?.totp || !attempt.completedMethods.some((method) => method === 'password' || method === 'publickey')) return AuthResult.FAILED;
    const [code = ''] = await prompt([{ prompt: 'Verification code: ', echo: false }], { title: 'Two-factor authentication' });
    if (this.totpVerifier(user).verify(code)) return AuthResult.SUCCESSFUL;
    this.logger.warn('wrong or reused verification code', { username, client: attempt.clientAddress });
    return AuthResult.FAILED;
  }

  private totpVerifier(user: UserAccount): TotpVerifier {
    const key = `${user.name}\0${user.totp!.secret}`;
    let verifier = this.totpVerifiers.get(key);
    if (!verifier) {
      verifier = new TotpVerifier(user.totp!, this.options.now);
      this.totpVerifiers.set(key, verifier);
    }
    return verifier;
  }

  /** A user the config does not list: the auth proxy decides, if there is one. */
  private async checkProxy(username: string, credential: { pass?: string; publicKey?: string }, attempt: AuthAttempt): Promise<AuthResult> {
    const proxy = this.options.authProxy;
    if (!proxy) {
      if (credential.pass !== undefined) await verifyAgainstDummy(credential.pass);
      return AuthResult.FAILED;
    }
    const login = await proxy.authenticate({ user: username, ...credential, clientIp: attempt.clientAddress });
    if (!login) return AuthResult.FAILED;
    this.proxyLogins.set(connectionKey(username, attempt.clientAddress, attempt.clientPort), login);
    return AuthResult.SUCCESSFUL;
  }

  /** The user's `bandwidth` from the config; the base class applies it (with the global limit). */
  override getBandwidthLimit(session: SessionInfo): BandwidthLimit | undefined {
    return this.config.users.get(session.username)?.bandwidth;
  }

  // Filesystems.

  override async getFS(session: SessionInfo): Promise<FS> {
    const proxyLogin = this.proxyLogins.get(connectionKey(session.username, session.clientAddress, session.clientPort));
    const user = proxyLogin ? undefined : this.config.users.get(session.username);
    if (!user && !proxyLogin) throw new Error(`user ${session.username} is no longer configured`);
    const count = this.sessionCounts.count(session.username);
    if (user?.maxSessions !== undefined && count >= user.maxSessions) {
      this.logger.warn('session refused: maxSessions reached', { username: session.username, maxSessions: user.maxSessions });
      throw new Error(`too many sessions for ${session.username} (at most ${user.maxSessions})`);
    }
    const leases: BackendLease[] = [];
    let fs: FS;
    try {
      fs = user ? await this.buildUserFS(user, leases) : await this.lease(`proxy:${proxyLogin!.cacheKey}`, proxyLogin!.backend, leases);
    } catch (error) {
      for (const lease of leases) lease.release();
      throw error;
    }
    fs = this.decorateFS(fs, session, user);
    this.sessionCounts.add(session.username);
    this.holds.set(fs, { username: session.username, leases });
    return fs;
  }

  /**
   * The last wrapper put around a session's FS, for subclasses (auditing,
   * quotas...). The default returns `fs`.
   * `user` is undefined for a login the auth proxy accepted.
   */
  protected decorateFS(fs: FS, _session: SessionInfo, _user: UserAccount | undefined): FS {
    return fs;
  }

  override releaseFS(fs: FS): void {
    const hold = this.holds.get(fs);
    if (!hold) return;
    this.holds.delete(fs);
    for (const lease of hold.leases) lease.release();
    this.sessionCounts.remove(hold.username);
  }

  /** Home and mounts composed, then the user's permissions and read-only flag. */
  private async buildUserFS(user: UserAccount, leases: BackendLease[]): Promise<FS> {
    const flags = { 'atomic-uploads': this.config.atomicUploads };
    const home = user.home !== undefined ? await this.lease(backendKey(user.name, user.home), { spec: user.home, flags }, leases) : undefined;
    let fs: FS;
    if (user.mounts.length === 0) fs = home!;
    else {
      const table = new Map<string, FS>();
      if (home) table.set('/', home);
      for (const mount of user.mounts) {
        const mounted = await this.lease(backendKey(user.name, mount.backend), { spec: mount.backend, flags }, leases);
        table.set(mount.point, mount.readOnly ? new ReadOnlyFS(mounted) : mounted);
      }
      fs = new MountFS(table);
    }
    if (user.permissions) fs = new PermissionsFS(fs, user.permissions);
    if (user.readOnly) fs = new ReadOnlyFS(fs);
    return fs;
  }

  private async lease(key: string, request: BackendRequest, leases: BackendLease[]): Promise<FS> {
    const lease = await this.backends.acquire(key, () => this.openBackend(request));
    leases.push(lease);
    return lease.fs;
  }

  /** Called by the auth proxy when a cached login expires: its backend closes once unused. */
  protected onProxyLoginExpired(cacheKey: string): void {
    this.backends.retireKey(`proxy:${cacheKey}`);
    for (const [connection, login] of this.proxyLogins) if (login.cacheKey === cacheKey) this.proxyLogins.delete(connection);
  }

  override async close(...args: Parameters<BaseSFTPServer['close']>): Promise<void> {
    await super.close(...args);
    await this.backends.closeAll();
  }
}

/** One backend per user and BACKEND string: two users naming `memory:` get two filesystems. */
function backendKey(username: string, spec: string): string {
  return `user:${username}\0${spec}`;
}

function connectionKey(username: string, address: string, port: number): string {
  return `${username}@${address}:${port}`;
}
