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
 */
export class ConnectionLimits {
  readonly options: ConnectionLimitOptions;
  private total = 0;
  private readonly perAddress = new Map<string, number>();

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

  /** Connections open now (from `address`, when given). */
  count(address?: string): number {
    return address === undefined ? this.total : (this.perAddress.get(normalizeAddress(address)) ?? 0);
  }

  /** Takes a slot for a connection from `address`; returns why not when a limit is reached. */
  open(address: string): string | undefined {
    const key = normalizeAddress(address);
    const { maxConnections, maxConnectionsPerIP } = this.options;
    if (maxConnections > 0 && this.total >= maxConnections) return `too many connections (max ${maxConnections})`;
    const fromAddress = this.perAddress.get(key) ?? 0;
    if (maxConnectionsPerIP > 0 && fromAddress >= maxConnectionsPerIP) return `too many connections from ${key} (max ${maxConnectionsPerIP})`;
    this.total++;
    this.perAddress.set(key, fromAddress + 1);
    return undefined;
  }

  /** Gives back a slot `open` granted. */
  close(address: string): void {
    const key = normalizeAddress(address);
    const fromAddress = this.perAddress.get(key) ?? 0;
    if (fromAddress <= 0) return;
    this.total--;
    if (fromAddress === 1) this.perAddress.delete(key);
    else this.perAddress.set(key, fromAddress - 1);
  }
}
