import type { DefenceOptions } from '../server/defence/Defence.js';
import { AddressList, AddressSyntaxError } from '../server/defence/addressList.js';
import { BandwidthSyntaxError, parseBandwidthLimit } from '../server/defence/bandwidth.js';

/**
 * What the serve command lends the parser: its duration syntax and its usage
 * error (passed in rather than imported, as serveOptions.ts imports this file).
 */
export interface FlagParsing {
  parseDuration(text: string, flag: string): number;
  usageError(message: string): Error;
}

/** `serve` flags of the defences (docs/defence.md); merged into the serve command's flag table. */
export const defenceFlags = {
  bwlimit: { type: 'string' },
  'max-connections': { type: 'string' },
  'max-connections-per-ip': { type: 'string' },
  'max-auth-tries': { type: 'string' },
  'login-grace-time': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'ban-after': { type: 'string' },
  'ban-window': { type: 'string' },
  'ban-time': { type: 'string' },
  'ban-exempt': { type: 'string', multiple: true },
  'proxy-protocol-from': { type: 'string', multiple: true },
} as const;

export const DEFENCE_USAGE = `      --bwlimit rate             Bandwidth limit for all sessions together, rclone syntax: 10M, UP:DOWN
                                 such as 1.5M:512k (upload = client writes), off (default off; KiB/s
                                 when no suffix)
      --max-connections n        Connections open at once, all clients together (default 0: no limit)
      --max-connections-per-ip n  Connections open at once from one address (default 0: no limit)
      --max-auth-tries n         Failed logins one connection may make before it is dropped (default 6)
      --login-grace-time duration  Time to log in before the connection is dropped (default "2m")
      --idle-timeout duration    Close connections that send nothing for this long (default 0: never)
      --ban-after n              Ban an address after n failed logins within --ban-window
                                 (default 10; 0 turns banning off)
      --ban-window duration      The window those failures are counted in (default "10m")
      --ban-time duration        How long a ban lasts (default "15m")
      --ban-exempt cidr          Addresses never banned, repeatable (default 127.0.0.0/8 and ::1;
                                 "none" exempts nothing)
      --proxy-protocol-from cidr  Read a PROXY protocol v1/v2 header from these load balancers,
                                 repeatable; their header's client address is then used for bans,
                                 limits and logs. A header from any other address is refused`;

type DefenceFlagValues = { [K in keyof typeof defenceFlags]?: (typeof defenceFlags)[K] extends { multiple: true } ? string[] : string };

/** The defences the flags ask for; a usage error naming the flag for a bad value. Unset flags keep the defaults. */
export function parseDefenceFlags(values: DefenceFlagValues, { parseDuration, usageError }: FlagParsing): DefenceOptions {
  const count = (text: string | undefined, flag: string): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) throw usageError(`invalid --${flag} "${text}": expected a whole number >= 0`);
    return Number(text);
  };
  const duration = (text: string | undefined, flag: string) => (text === undefined ? undefined : parseDuration(text, `--${flag}`));
  const addresses = (list: string[], flag: string): string[] => {
    try {
      new AddressList(list);
    } catch (error) {
      if (error instanceof AddressSyntaxError) throw usageError(`--${flag}: ${error.message}`);
      throw error;
    }
    return list;
  };

  let bandwidth;
  if (values.bwlimit !== undefined) {
    try {
      bandwidth = parseBandwidthLimit(values.bwlimit);
    } catch (error) {
      if (error instanceof BandwidthSyntaxError) throw usageError(`--bwlimit: ${error.message}`);
      throw error;
    }
  }
  const banAfter = count(values['ban-after'], 'ban-after');
  const exempt = values['ban-exempt'];
  const ban = banAfter === 0
    ? false
    : dropUndefined({
        maxFailures: banAfter,
        windowMs: duration(values['ban-window'], 'ban-window'),
        banMs: duration(values['ban-time'], 'ban-time'),
        exempt: exempt === undefined ? undefined : exempt.length === 1 && exempt[0] === 'none' ? [] : addresses(exempt, 'ban-exempt'),
      });
  return dropUndefined({
    ban,
    bandwidth,
    maxConnections: count(values['max-connections'], 'max-connections'),
    maxConnectionsPerIP: count(values['max-connections-per-ip'], 'max-connections-per-ip'),
    maxAuthTries: count(values['max-auth-tries'], 'max-auth-tries'),
    loginGraceTimeMs: duration(values['login-grace-time'], 'login-grace-time'),
    idleTimeoutMs: duration(values['idle-timeout'], 'idle-timeout'),
    trustedProxies: values['proxy-protocol-from'] && addresses(values['proxy-protocol-from'], 'proxy-protocol-from'),
  });
}

/** Leaves out unset keys, so the defaults of the defence apply rather than `undefined`. */
function dropUndefined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}
