import { normalizeAddress } from './addressList.js';

/** Limits on connections and on what one connection may do (0 turns one off). */
export interface ConnectionLimitOptions {
  /** Connections open at once, over all clients. Default 0 (unlimited). */
  maxConnections: number;
  /** Connections open at once from one source address. Default 0 (unlimited). */
  maxConnectionsPerIP: number;
  /** Failed authentications one connection may make before it is dropped (OpenSSH MaxAuthTries). Default 6. */
  maxAuthTries: number;
  /** Time from accepting a connection to its login, ms; then it is dropped (OpenSSH LoginGraceTime). Default 120 s. */
  loginGraceTimeMs: number;
  /** Time an authenticated connection may send nothing on its channels, ms, before it is closed. Default 0 (never). */
  idleTimeoutMs: number;
}

export const defaultConnectionLimits: ConnectionLimitOptions = {
  maxConnections: 0,
  maxConnectionsPerIP: 0,
  maxAuthTries: 6,
  loginGraceTimeMs: 120_000,
  idleTimeoutMs: 0,
};

/** Connections open at a peer (another worker of `serve --workers`), in total and per address. */
interface PeerCounts {
  total: number;
  perAddress: Map<string, number>;
}

/**
 * Counts open connections, in total and per source address, and says whether
 * one more may open. A slot taken with `open` must be given back with `close`.
 *
 * Under `serve --workers` each worker also counts the connections its peers
 * report (`peerOpened`/`peerClosed`, see src/cluster/sharedConnectionLimits.ts),
 * so that a limit holds for the whole server, not per worker.
 */
export class ConnectionLimits {
  readonly options: ConnectionLimitOptions;
  private total = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly peers = new Map<number, PeerCounts>();
  private readonly listeners: Array<(address: string, opened: boolean) => void> = [];

  constructor(options: Partial<ConnectionLimitOptions> = {}) {
    // Only our own keys: `options` may be a larger object (DefenceOptions) that carries these.
    const picked = { ...defaultConnectionLimits };
    for (const name of Object.keys(defaultConnectionLimits) as Array<keyof ConnectionLimitOptions>) {
      const value = options[name] ?? defaultConnectionLimits[name];
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a number >= 0, got ${value}`);
      picked[name] = value;
    }
    this.options = picked;
  }

  /** Whether a limit is set: without one, nothing needs counting across workers. */
  get limited(): boolean {
    return this.options.maxConnections > 0 || this.options.maxConnectionsPerIP > 0;
  }

  /** Connections open now, here and at the peers (from `address`, when given). */
  count(address?: string): number {
    const key = address === undefined ? undefined : normalizeAddress(address);
    let count = key === undefined ? this.total : (this.perAddress.get(key) ?? 0);
    for (const peer of this.peers.values()) count += key === undefined ? peer.total : (peer.perAddress.get(key) ?? 0);
    return count;
  }

  /** Takes a slot for a connection from `address`; returns why not when a limit is reached. */
  open(address: string): string | undefined {
    const key = normalizeAddress(address);
    const { maxConnections, maxConnectionsPerIP } = this.options;
    if (maxConnections > 0 && this.count() >= maxConnections) return `too many connections (max ${maxConnections})`;
    if (maxConnectionsPerIP > 0 && this.count(key) >= maxConnectionsPerIP) return `too many connections from ${key} (max ${maxConnectionsPerIP})`;
    this.total++;
    this.perAddress.set(key, (this.perAddress.get(key) ?? 0) + 1);
    for (const listener of this.listeners) listener(key, true);
    return undefined;
  }

  /** Gives back a slot `open` granted. */
  close(address: string): void {
    const key = normalizeAddress(address);
    if (!takeOne(this.perAddress, key)) return;
    this.total--;
    for (const listener of this.listeners) listener(key, false);
  }

  /** Calls `listener` after each slot taken or given back here (not for the peers'). */
  onChange(listener: (address: string, opened: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** A peer took a slot. */
  peerOpened(peer: number, address: string): void {
    let counts = this.peers.get(peer);
    if (!counts) this.peers.set(peer, (counts = { total: 0, perAddress: new Map() }));
    const key = normalizeAddress(address);
    counts.total++;
    counts.perAddress.set(key, (counts.perAddress.get(key) ?? 0) + 1);
  }

  /** A peer gave a slot back. */
  peerClosed(peer: number, address: string): void {
    const counts = this.peers.get(peer);
    if (counts && takeOne(counts.perAddress, normalizeAddress(address))) counts.total--;
  }

  /** A peer is gone (its process exited): its connections went with it. */
  forgetPeer(peer: number): void {
    this.peers.delete(peer);
  }
}

/** Takes one from `key`'s count (deleting it at zero); false when there was none. */
function takeOne(counts: Map<string, number>, key: string): boolean {
  const count = counts.get(key) ?? 0;
  if (count <= 0) return false;
  if (count === 1) counts.delete(key);
  else counts.set(key, count - 1);
  return true;
}
