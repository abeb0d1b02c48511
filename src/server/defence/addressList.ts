import { BlockList, isIP } from 'node:net';

/**
 * The form addresses are compared and keyed in: an IPv4 client reached
 * through an IPv6 socket (`::ffff:192.0.2.1`) is the IPv4 address, so a ban or
 * a count does not depend on how the server happened to listen.
 */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address.toLowerCase();
}

/** A CIDR or address that does not parse. */
export class AddressSyntaxError extends Error {
  override name = 'AddressSyntaxError';
}

/**
 * A set of networks given as CIDRs (`10.0.0.0/8`, `2001:db8::/32`) or single
 * addresses (`192.0.2.7`, `::1`), for trusted proxies and exemptions.
 */
export class AddressList {
  private readonly list = new BlockList();
  readonly entries: readonly string[];

  /** @throws AddressSyntaxError naming the first entry that is not an address or CIDR. */
  constructor(entries: Iterable<string>) {
    this.entries = [...entries];
    for (const entry of this.entries) {
      const [address = '', prefixText, ...rest] = entry.trim().split('/');
      const family = isIP(address);
      const max = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (family === 0 || rest.length > 0 || !/^\d*$/.test(prefixText ?? '') || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
        throw new AddressSyntaxError(`invalid address or CIDR "${entry}": expected e.g. 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32`);
      }
      this.list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** Whether `address` is in one of the networks (an IPv4-mapped IPv6 address counts as IPv4). */
  has(address: string): boolean {
    const normalized = normalizeAddress(address);
    const family = isIP(normalized);
    if (family === 0) return false;
    return this.list.check(normalized, family === 4 ? 'ipv4' : 'ipv6');
  }
}
