import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { FS } from '../../fs/FS.js';
import { ThrottledFS } from '../../fs/wrappers/throttled.js';
import { silentLogger, type Logger } from '../../logger.js';
import { AddressList } from './addressList.js';
import { BandwidthLimiter, isLimited, type BandwidthLimit } from './bandwidth.js';
import { BanList, type Ban, type BanPolicy } from './BanList.js';
import { systemClock, type Clock } from './clock.js';
import { ConnectionGuard, type GuardEndReason } from './ConnectionGuard.js';
import { ConnectionLimits, type ConnectionLimitOptions } from './ConnectionLimits.js';
import { readProxyHeader, type ProxyHeader } from './proxyProtocol.js';
import { takeFromAll } from './tokenBucket.js';

/** Everything the server does to protect itself; each part can be tuned or turned off. */
export interface DefenceOptions extends Partial<ConnectionLimitOptions> {
  /** Banning addresses that fail to authenticate too often; `false` turns it off. On by default. */
  ban?: Partial<BanPolicy> | false;
  /** Global bandwidth (`--bwlimit`), shared by every session. */
  bandwidth?: BandwidthLimit;
  /**
   * Addresses or CIDRs of proxies (HAProxy, a cloud load balancer) whose
   * PROXY protocol v1/v2 header is believed. Empty (default): no header is read.
   */
  trustedProxies?: readonly string[];
  /** Time for bans and bandwidth; tests inject a ManualClock. */
  clock?: Clock;
}

/** Why a connection was refused before the SSH handshake. */
export type RefusalReason = 'banned' | 'connection limit' | 'untrusted proxy header' | 'bad proxy header';

/**
 * Events, for logs, metrics and embedders:
 * - `refused` (address, reason, detail) — a connection dropped at accept time;
 * - `ban` (Ban) — an address just got banned;
 * - `disconnect` (address, GuardEndReason) — a rule ended a connection.
 */
export interface DefenceEvents {
  refused: [address: string, reason: RefusalReason, detail: string];
  ban: [ban: Ban];
  disconnect: [address: string, reason: GuardEndReason];
}

/** A session's FS with its bandwidth applied; `release()` when the session ends. */
export interface ThrottledSession {
  fs: FS;
  release(): void;
}

/**
 * The server's defences: bans, connection limits, login and idle timers,
 * bandwidth and PROXY protocol, applied by `BaseSFTPServer` at the points of
 * a connection's life where they belong. Usable alone by an embedder with its
 * own listener: `admit(socket)`, then `guardOf(socket)`.
 */
export class Defence extends EventEmitter<DefenceEvents> {
  readonly banList?: BanList;
  readonly limits: ConnectionLimits;
  readonly bandwidth: BandwidthLimiter;
  readonly trustedProxies: AddressList;
  private readonly guards = new WeakMap<Socket, ConnectionGuard>();
  private readonly clock: Clock;

  constructor(options: DefenceOptions = {}, private readonly logger: Logger = silentLogger) {
    super();
    const clock = options.clock ?? systemClock;
    if (options.ban !== false) {
      this.banList = new BanList(options.ban ?? {}, clock);
      this.banList.onBan((ban) => {
        this.logger.warn('address banned after failed authentications', { client: ban.address, failures: ban.failures, seconds: Math.round((ban.until - clock.now()) / 1000) });
        this.emit('ban', ban);
      });
    }
    this.limits = new ConnectionLimits(options);
    this.bandwidth = new BandwidthLimiter(options.bandwidth ?? {}, clock);
    this.trustedProxies = new AddressList(options.trustedProxies ?? []);
    this.clock = clock;
  }

  /**
   * Decides on a freshly accepted socket: reads a PROXY header when PROXY
   * protocol is on, then checks bans and connection limits against the real
   * client address. Resolves with the connection's guard, or undefined after
   * destroying the socket. Never rejects.
   *
   * With a trusted header, the socket's `remoteAddress`/`remotePort` are
   * replaced by the header's source, so ssh2, `SessionInfo`, logs and every
   * rule after this see the real client.
   */
  async admit(socket: Socket): Promise<ConnectionGuard | undefined> {
    const peer = socket.remoteAddress ?? '';
    if (!this.trustedProxies.isEmpty) {
      // Read from every peer: a header from an untrusted one must be refused, not mistaken for SSH.
      // SSH clients speak first (RFC 4253 4.2), so this costs no round trip.
      const deadline = this.limits.options.loginGraceTimeMs;
      const timer = deadline > 0 ? setTimeout(() => socket.destroy(), deadline).unref() : undefined;
      let header: ProxyHeader | undefined;
      try {
        header = await readProxyHeader(socket);
      } catch (error) {
        return this.refuse(socket, peer, 'bad proxy header', (error as Error).message);
      } finally {
        clearTimeout(timer);
      }
      if (header && !this.trustedProxies.has(peer)) return this.refuse(socket, peer, 'untrusted proxy header', `PROXY header from ${peer}, which is not a trusted proxy`);
      if (header?.source) {
        Object.defineProperty(socket, 'remoteAddress', { value: header.source.address, configurable: true });
        Object.defineProperty(socket, 'remotePort', { value: header.source.port, configurable: true });
      }
    }
    if (socket.destroyed) return undefined;
    return this.admitAddress(socket);
  }

  /** The guard `admit` made for this socket (undefined for sockets it never saw). */
  guardOf(socket: Socket): ConnectionGuard | undefined {
    return this.guards.get(socket);
  }

  /**
   * Checks bans and limits for a socket whose address is already the real
   * one (no PROXY header to read): for connections that reach the server
   * without passing `admit`, such as those of an attached ssh2 Server.
   */
  admitAddress(socket: Socket): ConnectionGuard | undefined {
    const existing = this.guards.get(socket);
    if (existing) return existing;
    const address = socket.remoteAddress ?? '';
    if (this.banList?.isBanned(address)) return this.refuse(socket, address, 'banned', `${address} is banned`);
    const full = this.limits.open(address);
    if (full) return this.refuse(socket, address, 'connection limit', full);
    const { maxAuthTries, loginGraceTimeMs, idleTimeoutMs } = this.limits.options;
    const guard = new ConnectionGuard(address, socket, {
      maxAuthTries,
      loginGraceTimeMs,
      idleTimeoutMs,
      recordFailure: (client) => this.banList?.recordFailure(client) !== undefined || (this.banList?.isBanned(client) ?? false),
      isBanned: (client) => this.banList?.isBanned(client) ?? false,
      onEnd: (ended, reason) => {
        this.logger.info('connection ended by the server', { client: ended.address, reason });
        this.emit('disconnect', ended.address, reason);
      },
      onClose: (closed) => this.limits.close(closed.address),
    });
    this.guards.set(socket, guard);
    return guard;
  }

  /**
   * The FS a session of this user sees with bandwidth limits applied: the
   * global limit and the user's own (shared by all of the user's sessions).
   * The FS itself when nothing limits the session.
   */
  throttle(fs: FS, username: string, userLimit?: BandwidthLimit): ThrottledSession {
    if (!this.bandwidth.hasGlobalLimit && !isLimited(userLimit)) return { fs, release: () => {} };
    const buckets = this.bandwidth.acquire(username, userLimit);
    const pace = (list: typeof buckets.upload) => (list.length > 0 ? (bytes: number) => takeFromAll(list, bytes, this.clock) : undefined);
    return { fs: new ThrottledFS(fs, { read: pace(buckets.download), write: pace(buckets.upload) }), release: buckets.release };
  }

  private refuse(socket: Socket, address: string, reason: RefusalReason, detail: string): undefined {
    this.logger.info('connection refused', { client: address, reason, detail });
    this.emit('refused', address, reason, detail);
    socket.destroy();
    return undefined;
  }
}
