import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { FS } from '../fs/FS.js';
import { silentLogger, type Logger } from '../logger.js';
import type { BandwidthLimit } from '../server/defence/bandwidth.js';
import type { ConnectionGuard } from '../server/defence/ConnectionGuard.js';
import { Defence, type DefenceOptions } from '../server/defence/Defence.js';
import { authChannel, publishBan, sessionEndChannel, sessionStartChannel, type AuthEvent } from '../observability/events.js';
import type { SessionLimits } from '../sftp/limits.js';
import { Session } from '../sftp/Session.js';
import { symlinkOrderOf } from '../sftp/symlinkOrder.js';
import { SFTPServerInterface } from '../sftp/SFTPServerInterface.js';
import { AuthResult, type AuthMethod, type PublicKey } from './auth.js';
import { decideAuthRequest, KEY_ACCEPTABLE, type AuthAttempt, type InteractivePrompter } from './authRequest.js';
import { corkDataTurnsWhileQueued } from './dataTurnCork.js';
import { defaultExecCommands, refuseExec, refuseShell, runExecCommand, type ExecCommands } from './exec.js';
import { loadHostKeys } from './hostKeys.js';

/** Who is connected: what getFS and the hooks learn about an authenticated user. */
export interface SessionInfo {
  username: string;
  clientAddress: string;
  clientPort: number;
  /** Methods that succeeded, in order (several with multi-factor auth). */
  authMethods: AuthMethod[];
  /** The software part of the client's SSH identification, e.g. `OpenSSH_9.2p1` or `ssh2js1.17.0`. */
  clientSoftware?: string;
}

export interface BaseSFTPServerOptions {
  /** The filesystem every user sees, unless a subclass overrides getFS. */
  fs?: FS;
  /** Host private keys: file paths or key text. None: generated once and cached in stateDir. */
  hostKeys?: ReadonlyArray<string | Buffer>;
  /** Where generated host keys are kept (default: ~/.cache/sftp-expose). */
  stateDir?: string;
  /** The directory relative SFTP paths start from. Default `/`. */
  home?: string;
  limits?: Partial<SessionLimits>;
  logger?: Logger;
  /** SSH identification suffix (`SSH-2.0-<ident>`). */
  ident?: string;
  /**
   * Bans, connection limits, login/idle timers, bandwidth, PROXY protocol
   * (see docs/defence.md). Default: bans on, 6 auth tries, 120 s login grace,
   * no other limit. `false` turns everything off; a Defence instance may be
   * shared by several servers.
   */
  defence?: DefenceOptions | Defence | false;
}

type AuthContext = ssh2.AuthContext;

/** How {@link BaseSFTPServer.close} ends the sessions in progress. */
export interface CloseOptions {
  /**
   * Graceful shutdown: stop accepting, refuse new file handles, end each
   * session once its open files are closed, and wait up to this long before
   * ending the rest (their uploads aborted where the backend can abort).
   * Default 0: end every session at once.
   */
  drainMs?: number;
}

export type { AuthAttempt, InteractivePrompt, InteractivePrompter } from './authRequest.js';

/**
 * An SFTP server on ssh2's SSH transport. Authentication is decided by hooks a
 * subclass overrides; the base class accepts nobody (deny by default).
 *
 * ```ts
 * class MyServer extends BaseSFTPServer {
 *   override getAllowedAuths() { return ['password']; }
 *   override checkAuthPassword(user, pass) { return user === 'demo' && safeEqual(pass, 'demo') ? AuthResult.SUCCESSFUL : AuthResult.FAILED; }
 * }
 * await new MyServer({ fs: new MemoryFS() }).listen(2022, '127.0.0.1');
 * ```
 */
export class BaseSFTPServer extends EventEmitter {
  readonly sshServer: ssh2.Server;
  /** The defences in force (bans, limits, bandwidth); its events report what they did. */
  readonly defence: Defence;
  protected readonly logger: Logger;
  /** Our own listener, so every socket passes handleConnection (PROXY header, bans, limits) before ssh2. */
  private readonly tcpServer = createServer((socket) => this.handleConnection(socket));
  private readonly connections = new Set<ssh2.Connection>();
  private readonly sessions = new Set<Session>();
  private listening = false;
  /** close() has begun: new SFTP sessions are refused. */
  private closing = false;

  constructor(protected readonly options: BaseSFTPServerOptions = {}) {
    super();
    this.logger = options.logger ?? silentLogger;
    const hostKeys = loadHostKeys(options.hostKeys, options.stateDir);
    this.sshServer = new ssh2.Server({ hostKeys, ident: options.ident ?? 'sftp-expose' });
    const defence = options.defence;
    this.defence = defence instanceof Defence ? defence : new Defence(defence === false ? { ban: false, maxAuthTries: 0, loginGraceTimeMs: 0 } : defence, this.logger);
    this.defence.on('ban', (ban) => publishBan({ clientAddress: ban.address, failures: ban.failures, server: this }));
    this.attach(this.sshServer);
  }

  // Hooks for subclasses.

  /**
   * Methods this user may try now. Asked again after each partial success, so
   * a multi-factor policy can depend on `attempt.completedMethods`; methods
   * that already succeeded are dropped by the caller.
   */
  getAllowedAuths(_username: string, _attempt: AuthAttempt): AuthMethod[] {
    return ['publickey', 'password'];
  }

  checkAuthNone(_username: string, _attempt: AuthAttempt): AuthResult | Promise<AuthResult> {
    return AuthResult.FAILED;
  }

  checkAuthPassword(_username: string, _password: string, _attempt: AuthAttempt): AuthResult | Promise<AuthResult> {
    return AuthResult.FAILED;
  }

  /** Whether this key may log in as this user. The server has verified the signature already. */
  checkAuthPublickey(_username: string, _key: PublicKey, _attempt: AuthAttempt): AuthResult | Promise<AuthResult> {
    return AuthResult.FAILED;
  }

  /**
   * keyboard-interactive: ask the client questions through `prompt` (a TOTP
   * code, a challenge) and decide. Offered only when getAllowedAuths lists
   * `keyboard-interactive`.
   */
  checkAuthInteractive(_username: string, _prompt: InteractivePrompter, _attempt: AuthAttempt): AuthResult | Promise<AuthResult> {
    return AuthResult.FAILED;
  }

  /**
   * This session's own bandwidth limit (on top of the global `--bwlimit`),
   * shared by all sessions of the same user. Default: none.
   */
  getBandwidthLimit(_session: SessionInfo): BandwidthLimit | undefined {
    return undefined;
  }

  /** The filesystem an authenticated user sees. */
  getFS(_session: SessionInfo): FS | Promise<FS> {
    if (!this.options.fs) throw new Error('no filesystem: pass `fs` to the constructor or override getFS');
    return this.options.fs;
  }

  /**
   * Called once with the FS `getFS` gave a session or exec request, after it
   * has ended and released its handles. The default does nothing (the shared
   * `options.fs` outlives sessions); a getFS that makes an FS per session
   * (e.g. an SFTPFS with its own upstream connection) closes it here.
   */
  releaseFS(_fs: FS, _session: SessionInfo): void | Promise<void> {}

  /** The request adapter for one SFTP session; override to customise single requests. */
  createServerInterface(fs: FS, _session: SessionInfo): SFTPServerInterface {
    return new SFTPServerInterface(fs, { home: this.options.home });
  }

  /**
   * The commands this user's `exec` requests may run (default: md5sum,
   * sha1sum, sha256sum, sha512sum, df, as rclone's sftp backend uses them).
   * Override to add, replace or remove some; an empty map refuses every exec.
   * Nothing ever runs through a real shell. Commands act on `fs` directly:
   * restrictions coded in createServerInterface do not reach them, so put
   * access rules in the FS (a wrapper) or drop the commands here.
   */
  createExecCommands(_fs: FS, _session: SessionInfo): ExecCommands {
    return defaultExecCommands();
  }

  // Listening and embedding.

  /** Listens on a TCP port; resolves with the bound address (port 0 picks a free one). */
  listen(port = 2022, host = 'localhost'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.tcpServer.once('error', reject);
      this.tcpServer.listen(port, host, () => {
        this.tcpServer.off('error', reject);
        this.listening = true;
        resolve(this.tcpServer.address() as AddressInfo);
      });
    });
  }

  /**
   * Serves one already-accepted socket (embedding in a larger socket server),
   * once the defences admit it: a PROXY header read (when configured), bans
   * and connection limits checked against the real client address.
   */
  handleConnection(socket: Socket): void {
    void this.defence.admit(socket).then((guard) => {
      if (guard) this.sshServer.injectSocket(socket);
    });
  }

  /** Serves the clients of an existing ssh2 Server too (its host keys and config stay its own). */
  attach(server: ssh2.Server): void {
    server.on('connection', (client, info) => this.handleClient(client, info));
  }

  /**
   * Stops accepting, ends every connection, and resolves when their sessions
   * have released their handles. With `drainMs`, transfers in progress get
   * that long to finish first (see {@link CloseOptions}).
   */
  async close(options: CloseOptions = {}): Promise<void> {
    this.closing = true;
    // tcpServer.close() resolves only once every connection has gone, so it is awaited last.
    const stopped = this.listening ? new Promise<void>((resolve) => this.tcpServer.close(() => resolve())) : Promise.resolve();
    this.listening = false;
    if (options.drainMs !== undefined && options.drainMs > 0 && this.sessions.size > 0) await this.drain(options.drainMs);
    const sessionsClosed = [...this.sessions].map((session) => new Promise((resolve) => session.once('close', resolve)));
    for (const session of this.sessions) session.shutdown('server closing', {});
    for (const client of this.connections) client.end();
    await Promise.all([stopped, ...sessionsClosed]);
  }

  /** Resolves when every session has drained, or after `drainMs`. */
  private async drain(drainMs: number): Promise<void> {
    const sessions = [...this.sessions];
    this.logger.info('draining sessions', { sessions: sessions.length, openHandles: sessions.reduce((sum, s) => sum + s.openHandles, 0), drainMs });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), drainMs)));
    const drained = Promise.all(sessions.map((session) => new Promise((resolve) => (session.once('close', resolve), session.drain()))));
    const outcome = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') this.logger.warn('drain deadline passed, ending the remaining sessions', { sessions: this.sessions.size });
  }

  private handleClient(client: ssh2.Connection, info: ssh2.ClientInfo): void {
    // Connections of an attached ssh2 Server skipped handleConnection: their bans and limits are checked here.
    const socket = (client as unknown as { _sock?: Socket })._sock;
    const guard = socket && this.defence.admitAddress(socket);
    if (socket && !guard) return;
    guard?.bindEnd(() => client.end());
    this.connections.add(client);
    // SFTP is request/response: with Nagle's algorithm, the last short segment of a
    // reply waits for the client's delayed ACK (40 ms) before it is sent.
    // (ssh2's server-side Connection has setNoDelay; @types/ssh2 lists it only for the client.)
    (client as ssh2.Connection & { setNoDelay(noDelay: boolean): void }).setNoDelay(true);
    // Gathers the packets a window adjust releases into one write (see dataTurnCork.ts).
    const trackChannel = socket ? corkDataTurnsWhileQueued(socket) : undefined;
    const completed: AuthMethod[] = [];
    /** The user the partial successes in `completed` were won for. */
    let completedFor: string | undefined;
    let sessionInfo: SessionInfo | undefined;
    client.on('authentication', (ctx) => {
      const onSuccess = () => {
        sessionInfo = { username: ctx.username, clientAddress: info.ip, clientPort: info.port, authMethods: [...completed], clientSoftware: info.header?.versions?.software };
      };
      // SSH lets a client change user between requests; a factor passed for one user must not count for another.
      if (completedFor !== ctx.username) completed.length = 0;
      completedFor = ctx.username;
      this.authenticate(ctx, info, completed, onSuccess, guard).catch((error: unknown) => {
          this.logger.error('auth hook failed', { error, username: ctx.username });
          ctx.reject();
        });
    });
    client.on('ready', () => {
      this.logger.info('user logged in', { username: sessionInfo?.username, client: info.ip, methods: sessionInfo?.authMethods });
      client.on('session', (accept) => {
        const channelSession = accept();
        channelSession.on('subsystem', (acceptSubsystem, rejectSubsystem, { name }) => {
          if (name !== 'sftp' || !sessionInfo || this.closing) return rejectSubsystem();
          const channel = acceptSubsystem();
          trackChannel?.(channel);
          this.startSession(channel, sessionInfo, guard, socket);
        });
        channelSession.on('exec', (acceptExec, rejectExec, { command }) => {
          if (!sessionInfo) return rejectExec();
          this.startExec(acceptExec(), command, sessionInfo);
        });
        channelSession.on('shell', (acceptShell) => void refuseShell(acceptShell()));
      });
    });
    client.on('error', (error) => this.logger.debug('connection error', { client: info.ip, error: error.message }));
    client.on('close', () => this.connections.delete(client));
  }

  /** Runs one authentication attempt through the hooks; calls onSuccess just before the user is let in. */
  private async authenticate(ctx: AuthContext, info: ssh2.ClientInfo, completed: AuthMethod[], onSuccess: () => void, guard?: ConnectionGuard): Promise<void> {
    const username = ctx.username;
    if (guard?.refusesLogin) {
      ctx.reject([]);
      guard.authFailed(); // banned meanwhile (by another connection's failures): ends this one
      return;
    }
    const attempt = (): AuthAttempt => ({ clientAddress: info.ip, clientPort: info.port, completedMethods: [...completed] });
    const allowed = this.getAllowedAuths(username, attempt()).filter((method) => !completed.includes(method));
    const method = ctx.method as AuthMethod;
    if (!allowed.includes(method)) {
      ctx.reject(allowed);
      return;
    }
    const result = await decideAuthRequest(this, ctx, attempt());
    if (result === KEY_ACCEPTABLE) {
      ctx.accept(); // "this key would do": the client signs and asks again
      return;
    }
    if (authChannel.hasSubscribers) {
      const outcome = result === AuthResult.SUCCESSFUL ? 'success' : result === AuthResult.PARTIALLY_SUCCESSFUL ? 'partial' : 'failure';
      authChannel.publish({ server: this, username, clientAddress: info.ip, clientPort: info.port, method, result: outcome } satisfies AuthEvent);
    }
    if (result === AuthResult.SUCCESSFUL) {
      completed.push(method);
      onSuccess();
      guard?.authenticated();
      ctx.accept();
      return;
    }
    if (result === AuthResult.PARTIALLY_SUCCESSFUL) {
      completed.push(method);
      ctx.reject(this.getAllowedAuths(username, attempt()).filter((m) => !completed.includes(m)), true);
      return;
    }
    if (method !== 'none') this.logger.info('authentication failed', { username, method, client: info.ip });
    ctx.reject(allowed);
    // Not counted: `none`, and a key offered without a signature (a client with several keys tries each).
    if (method !== 'none' && !(ctx.method === 'publickey' && !ctx.signature)) guard?.authFailed();
  }

  private startExec(channel: ssh2.ServerChannel, command: string, info: SessionInfo): void {
    // Inside then(): a getFS that throws synchronously is answered like one that rejects.
    Promise.resolve()
      .then(() => this.getFS(info))
      .then(async (fs) => {
        try {
          const si = this.createServerInterface(fs, info);
          const commands = this.createExecCommands(fs, info);
          await runExecCommand(command, channel, { fs, resolve: (path) => si.resolve(path), commands, logger: this.logger, username: info.username });
        } finally {
          await this.release(fs, info);
        }
      })
      .catch((error: unknown) => {
        this.logger.error('cannot run an exec request', { error, username: info.username });
        void refuseExec(channel, (error as Error).message);
      });
  }

  /** releaseFS, its failure logged: a session that has ended has no one left to report it to. */
  private async release(fs: FS, info: SessionInfo): Promise<void> {
    try {
      await this.releaseFS(fs, info);
    } catch (error) {
      this.logger.warn('releaseFS failed', { error, username: info.username });
    }
  }

  private startSession(channel: ssh2.ServerChannel, info: SessionInfo, guard?: ConnectionGuard, socket?: Socket): void {
    // The channel buffers what the client sends until the Session attaches its reader.
    Promise.resolve()
      .then(() => this.getFS(info))
      .then((fs) => {
        let session: Session;
        const throttled = this.defence.throttle(fs, info.username, this.getBandwidthLimit(info));
        // The exit-status first (scp fails without one, as OpenSSH's sshd always sends it), then EOF and close.
        const close = (exitStatus?: number) => {
          if (exitStatus !== undefined) channel.exit(exitStatus);
          channel.end();
        };
        try {
          const si = this.createServerInterface(throttled.fs, info);
          session = new Session({ readable: channel, writable: channel, close, socket, copiesOnWrite: true }, si, {
            limits: this.options.limits,
            logger: this.logger,
            peer: { server: this, username: info.username, clientAddress: info.clientAddress, clientPort: info.clientPort },
            symlinkOrder: symlinkOrderOf(info.clientSoftware),
          });
        } catch (error) {
          throttled.release();
          void this.release(fs, info);
          throw error;
        }
        // After the Session's own reader: a listener added earlier would let data flow before it attached.
        if (guard) channel.on('data', () => guard.touch());
        this.sessions.add(session);
        const startedAt = performance.now();
        if (sessionStartChannel.hasSubscribers) sessionStartChannel.publish({ session: session.ref, authMethods: info.authMethods });
        session.once('close', (reason: string) => {
          this.sessions.delete(session);
          throttled.release();
          if (sessionEndChannel.hasSubscribers) sessionEndChannel.publish({ session: session.ref, reason, durationMs: performance.now() - startedAt });
          void this.release(fs, info);
        });
        this.emit('session', session, info);
      })
      .catch((error: unknown) => {
        this.logger.error('cannot start an SFTP session', { error, username: info.username });
        channel.stderr.write(`sftp-expose: ${(error as Error).message}\n`);
        channel.close();
      });
  }
}
