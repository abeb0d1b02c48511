import { BlockList, isIP } from 'node:net';

/** A bad network or pattern in a config or an authorized_keys `from=` option. */
export class InvalidNetwork extends Error {
  override name = 'InvalidNetwork';
}

/** `10.0.0.0/8`, `2001:db8::/32` or a single address, as a BlockList family and prefix. */
function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) throw new InvalidNetwork(`"${text}" is not an address or CIDR network`);
  const version = isIP(address);
  if (version === 0) throw new InvalidNetwork(`"${text}" is not an address or CIDR network (e.g. 192.168.0.0/16, 2001:db8::/32)`);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) throw new InvalidNetwork(`"${text}": the prefix length must be 0..${max}`);
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** The family BlockList needs for a client address (`::ffff:1.2.3.4` is checked as IPv6, which BlockList maps). */
function familyOf(ip: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(ip);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/**
 * A list of networks (CIDR, IPv4 and IPv6) a client address is checked
 * against. An IPv4 client reached through an IPv6 socket (`::ffff:10.1.2.3`)
 * matches IPv4 networks too.
 */
export class NetworkList {
  private readonly blocks = new BlockList();

  /** @throws InvalidNetwork naming the bad entry. */
  constructor(readonly networks: readonly string[]) {
    for (const network of networks) {
      const { address, prefix, family } = parseCidr(network.trim());
      this.blocks.addSubnet(address, prefix, family);
    }
  }

  /** True when `ip` is in one of the networks; an unparsable address matches nothing. */
  contains(ip: string): boolean {
    const family = familyOf(ip);
    return family !== undefined && this.blocks.check(ip, family);
  }
}

/** A shell-style wildcard (`*`, `?`) as a whole-string regular expression. */
function wildcardRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/** One entry of an OpenSSH pattern list, compiled. */
interface AddressPattern {
  negated: boolean;
  matches(ip: string): boolean;
}

/**
 * An OpenSSH pattern list as authorized_keys' `from="..."` takes it:
 * comma-separated entries, each an address with `*`/`?` wildcards or a CIDR
 * network, optionally negated with `!`. A client matches when some positive
 * entry matches and no negated one does (sshd's rule). Host names are not
 * looked up (as sshd with `UseDNS no`, its default): write addresses.
 */
export class AddressPatternList {
  private readonly patterns: AddressPattern[];

  /** @throws InvalidNetwork for an empty list or a malformed CIDR entry. */
  constructor(readonly text: string) {
    const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
    if (entries.length === 0) throw new InvalidNetwork('empty pattern list');
    this.patterns = entries.map((entry) => {
      const negated = entry.startsWith('!');
      const body = negated ? entry.slice(1) : entry;
      if (body.includes('/')) {
        const list = new NetworkList([body]);
        return { negated, matches: (ip: string) => list.contains(ip) };
      }
      const regExp = wildcardRegExp(body);
      return { negated, matches: (ip: string) => regExp.test(ip) || regExp.test(unmapIPv4(ip)) };
    });
  }

  /** Whether a client at `ip` passes the list. */
  allows(ip: string): boolean {
    let allowed = false;
    for (const pattern of this.patterns) {
      if (!pattern.matches(ip)) continue;
      if (pattern.negated) return false;
      allowed = true;
    }
    return allowed;
  }
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so IPv4 patterns apply to dual-stack sockets. */
export function unmapIPv4(ip: string): string {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return match ? match[1]! : ip;
}
