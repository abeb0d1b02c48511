import { KeyedCounts } from '../KeyedCounts.js';
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

/**
 * Counts open connections, in total and per source address, and says whether
 * one more may open. A slot taken with `open` must be given back with `close`.
 *
 * Under `serve --workers` each worker also counts the connections its peers
 * report (`connections`, shared by src/cluster/sharedCounts.ts), so that a
 * limit holds for the whole server, not per worker.
 */
export class ConnectionLimits {
  readonly options: ConnectionLimitOptions;
  /** Open connections per normalized source address. */
  readonly connections = new KeyedCounts();

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
    return this.connections.count(address === undefined ? undefined : normalizeAddress(address));
  }

  /** Takes a slot for a connection from `address`; returns why not when a limit is reached. */
  open(address: string): string | undefined {
    const key = normalizeAddress(address);
    const { maxConnections, maxConnectionsPerIP } = this.options;
    if (maxConnections > 0 && this.connections.count() >= maxConnections) return `too many connections (max ${maxConnections})`;
    if (maxConnectionsPerIP > 0 && this.connections.count(key) >= maxConnectionsPerIP) return `too many connections from ${key} (max ${maxConnectionsPerIP})`;
    this.connections.add(key);
    return undefined;
  }

  /** Gives back a slot `open` granted. */
  close(address: string): void {
    this.connections.remove(normalizeAddress(address));
  }
}
