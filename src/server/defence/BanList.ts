import { AddressList, normalizeAddress } from './addressList.js';
import { systemClock, type Clock } from './clock.js';

/** When a source address is banned. */
export interface BanPolicy {
  /** Failed authentications that trigger a ban (0 disables banning). Default 10. */
  maxFailures: number;
  /** The window those failures must fall in, ms. Default 10 minutes. */
  windowMs: number;
  /** How long a ban lasts, ms. Default 15 minutes. */
  banMs: number;
  /**
   * Addresses never banned. Default loopback (`127.0.0.0/8`, `::1`), as
   * fail2ban's `ignoreip`: behind a local proxy without PROXY protocol every
   * client is 127.0.0.1, and banning it would lock everyone out.
   */
  exempt: readonly string[];
}

export const defaultBanPolicy: BanPolicy = {
  maxFailures: 10,
  windowMs: 10 * 60_000,
  banMs: 15 * 60_000,
  exempt: ['127.0.0.0/8', '::1'],
};

/** What a ban list reports when it bans an address (for logs, metrics and events). */
export interface Ban {
  address: string;
  /** Clock time the ban ends. */
  until: number;
  failures: number;
}

/**
 * Bans a source address after too many failed authentications within a
 * window, for a while (what fail2ban does for sshd, in process). Memory is
 * bounded by the addresses seen failing within one window plus the bans in
 * force; both are forgotten as they expire.
 */
export class BanList {
  readonly policy: BanPolicy;
  private readonly exempt: AddressList;
  /** Recent failure times per address, oldest first. */
  private readonly failures = new Map<string, number[]>();
  private readonly bans = new Map<string, number>();
  private readonly listeners = new Set<(ban: Ban) => void>();
  private readonly failureListeners = new Set<(address: string) => void>();

  constructor(policy: Partial<BanPolicy> = {}, private readonly clock: Clock = systemClock) {
    this.policy = { ...defaultBanPolicy, ...policy };
    this.exempt = new AddressList(this.policy.exempt);
  }

  /** Whether connections and logins from `address` are refused now. */
  isBanned(address: string): boolean {
    const key = normalizeAddress(address);
    const until = this.bans.get(key);
    if (until === undefined) return false;
    if (this.clock.now() < until) return true;
    this.bans.delete(key);
    return false;
  }

  /** The ban in force on `address`, if any. */
  banOf(address: string): Ban | undefined {
    const key = normalizeAddress(address);
    return this.isBanned(key) ? { address: key, until: this.bans.get(key)!, failures: this.policy.maxFailures } : undefined;
  }

  /**
   * Records one failed authentication; returns the ban it triggered, if any.
   * `from: 'peer'` is a failure another process of the same server saw and
   * passed on (see src/cluster/sharedBans.ts): it counts the same, but is not
   * passed on again.
   */
  recordFailure(address: string, from: 'here' | 'peer' = 'here'): Ban | undefined {
    const key = normalizeAddress(address);
    if (this.policy.maxFailures <= 0 || this.exempt.has(key) || this.isBanned(key)) return undefined;
    if (from === 'here') for (const listener of this.failureListeners) listener(key);
    const now = this.clock.now();
    this.prune(now);
    const times = this.failures.get(key) ?? [];
    times.push(now);
    while (times.length > 0 && times[0]! <= now - this.policy.windowMs) times.shift();
    this.failures.set(key, times);
    if (times.length < this.policy.maxFailures) return undefined;
    this.failures.delete(key);
    const ban: Ban = { address: key, until: now + this.policy.banMs, failures: times.length };
    this.bans.set(key, ban.until);
    for (const listener of this.listeners) listener(ban);
    return ban;
  }

  /** The bans in force, each with the time it has left: what another process of the same server takes on with adoptBan. */
  bansInForce(): Array<{ address: string; remainingMs: number }> {
    const now = this.clock.now();
    return this.activeBans().map((ban) => ({ address: ban.address, remainingMs: ban.until - now }));
  }

  /**
   * Takes on a ban another process of the same server imposed, ending
   * `remainingMs` from now (see src/cluster/sharedBans.ts): refused from then
   * on, without a new ban being announced.
   */
  adoptBan(address: string, remainingMs: number): void {
    if (!(remainingMs > 0)) return;
    const key = normalizeAddress(address);
    const until = this.clock.now() + remainingMs;
    if ((this.bans.get(key) ?? 0) < until) this.bans.set(key, until);
  }

  /** Forgets an address's failures (a success does not earn credit: only explicit forgiveness does). */
  forgive(address: string): void {
    const key = normalizeAddress(address);
    this.failures.delete(key);
    this.bans.delete(key);
  }

  /** Calls `listener` with each new ban; returns a function that stops it. */
  onBan(listener: (ban: Ban) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener` with the address of each failure recorded here that counts toward a ban; returns a function that stops it. */
  onFailure(listener: (address: string) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /** Addresses banned now, with their end times. */
  activeBans(): Ban[] {
    const now = this.clock.now();
    return [...this.bans].filter(([, until]) => until > now).map(([address, until]) => ({ address, until, failures: this.policy.maxFailures }));
  }

  /** Drops expired bans and failure lists that fell out of the window (bounded memory under a scan). */
  private prune(now: number): void {
    for (const [address, until] of this.bans) if (until <= now) this.bans.delete(address);
    if (this.failures.size < 1024) return;
    for (const [address, times] of this.failures) if (times[times.length - 1]! <= now - this.policy.windowMs) this.failures.delete(address);
  }
}
