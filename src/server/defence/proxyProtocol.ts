import { isIP, type Socket } from 'node:net';

/** The source a PROXY protocol header reports (the client the proxy accepted). */
export interface ProxyHeader {
  version: 1 | 2;
  /**
   * The client's address and port; undefined for v1 `UNKNOWN`, v2 `LOCAL`
   * (a proxy's own health check) and non-IP families: the socket's own peer
   * then stands.
   */
  source?: { address: string; port: number };
  destination?: { address: string; port: number };
}

/** A header that is not valid PROXY protocol: the connection is dropped. */
export class ProxyProtocolError extends Error {
  override name = 'ProxyProtocolError';
}

/** The v2 binary signature (12 bytes). */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
/** The spec's longest v1 line, CRLF included. */
const V1_MAX_LENGTH = 107;
/** Nothing a proxy sends is longer than this (v2: 16 header bytes plus TLVs); more is an attack. */
const V2_MAX_LENGTH = 16 + 4096;

export type ProxyParseResult =
  | { status: 'incomplete' }
  /** The bytes start with something else (an SSH identification): no header. */
  | { status: 'absent' }
  | { status: 'complete'; header: ProxyHeader; length: number };

/** True while `data` could still be the start of `prefix` (or already starts with it). */
function mayStartWith(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length);
  return data.subarray(0, n).equals(prefix.subarray(0, n));
}

/**
 * Parses a PROXY protocol v1 (text) or v2 (binary) header at the start of
 * `data`. `length` is the header's size: the bytes after it belong to the
 * proxied protocol.
 *
 * @throws ProxyProtocolError for a header that starts right but is malformed.
 */
export function parseProxyHeader(data: Buffer): ProxyParseResult {
  if (data.length === 0) return { status: 'incomplete' };
  if (mayStartWith(data, PROXY_V2_SIGNATURE)) return data.length < 16 ? { status: 'incomplete' } : parseV2(data);
  if (mayStartWith(data, V1_PREFIX)) return parseV1(data);
  return { status: 'absent' };
}

function parseV1(data: Buffer): ProxyParseResult {
  const end = data.subarray(0, V1_MAX_LENGTH).indexOf('\r\n');
  if (end < 0) {
    if (data.length >= V1_MAX_LENGTH) throw new ProxyProtocolError('PROXY v1 header longer than 107 bytes');
    return { status: 'incomplete' };
  }
  const line = data.subarray(0, end).toString('latin1');
  const fields = line.split(' ');
  const length = end + 2;
  if (fields[1] === 'UNKNOWN') return { status: 'complete', header: { version: 1 }, length };
  if (fields.length !== 6 || (fields[1] !== 'TCP4' && fields[1] !== 'TCP6')) throw new ProxyProtocolError(`malformed PROXY v1 header: ${JSON.stringify(line)}`);
  const family = fields[1] === 'TCP4' ? 4 : 6;
  const [, , srcAddress, dstAddress, srcPort, dstPort] = fields as [string, string, string, string, string, string];
  if (isIP(srcAddress) !== family || isIP(dstAddress) !== family) throw new ProxyProtocolError(`PROXY v1 header with bad ${fields[1]} addresses: ${JSON.stringify(line)}`);
  return {
    status: 'complete',
    header: { version: 1, source: { address: srcAddress, port: v1Port(srcPort, line) }, destination: { address: dstAddress, port: v1Port(dstPort, line) } },
    length,
  };
}

function v1Port(text: string, line: string): number {
  // The spec forbids leading zeros and signs; Number() would accept them.
  if (!/^(0|[1-9]\d{0,4})$/.test(text) || Number(text) > 65535) throw new ProxyProtocolError(`PROXY v1 header with a bad port: ${JSON.stringify(line)}`);
  return Number(text);
}

function parseV2(data: Buffer): ProxyParseResult {
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2) throw new ProxyProtocolError(`PROXY v2 header with version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) throw new ProxyProtocolError(`PROXY v2 header with unknown command ${command}`);
  const familyProtocol = data[13]!;
  const bodyLength = data.readUInt16BE(14);
  const length = 16 + bodyLength;
  if (length > V2_MAX_LENGTH) throw new ProxyProtocolError(`PROXY v2 header of ${length} bytes`);
  if (data.length < length) return { status: 'incomplete' };
  // LOCAL: the proxy speaking for itself (health checks); addresses, if any, are ignored.
  if (command === 0) return { status: 'complete', header: { version: 2 }, length };
  const body = data.subarray(16, length);
  const layout = addressLayouts[familyProtocol >> 4];
  if (layout) {
    const { size, name, format } = layout;
    if (body.length < 2 * size + 4) throw new ProxyProtocolError(`PROXY v2 ${name} header too short`);
    return {
      status: 'complete',
      header: {
        version: 2,
        source: { address: format(body.subarray(0, size)), port: body.readUInt16BE(2 * size) },
        destination: { address: format(body.subarray(size, 2 * size)), port: body.readUInt16BE(2 * size + 2) },
      },
      length,
    };
  }
  // UNSPEC or AF_UNIX: nothing usable as a client IP; the socket's peer stands.
  return { status: 'complete', header: { version: 2 }, length };
}

/** PROXY v2 address families with addresses: source and destination address, then source and destination port. */
const addressLayouts: Record<number, { size: number; name: string; format: (bytes: Buffer) => string }> = {
  1: { size: 4, name: 'IPv4', format: ipv4 },
  2: { size: 16, name: 'IPv6', format: ipv6 },
};

function ipv4(bytes: Buffer): string {
  return [...bytes].join('.');
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // Compress the longest run of zero groups, as the canonical text form does (RFC 5952).
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}

/**
 * Reads a PROXY header off a freshly accepted socket, consuming exactly its
 * bytes: whatever followed (the client's SSH identification) is pushed back
 * with `unshift`, so the next reader of the socket sees the stream as the
 * client sent it. Resolves with undefined when the stream does not start with
 * a header (a direct connection).
 *
 * @throws ProxyProtocolError for a malformed header, or a socket that ends first.
 */
export function readProxyHeader(socket: Socket): Promise<ProxyHeader | undefined> {
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    const finish = (error: Error | undefined, header?: ProxyHeader, rest?: Buffer) => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      socket.pause();
      if (rest && rest.length > 0) socket.unshift(rest);
      if (error) reject(error);
      else resolve(header);
    };
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      let result: ProxyParseResult;
      try {
        result = parseProxyHeader(received);
      } catch (error) {
        finish(error as Error);
        return;
      }
      if (result.status === 'absent') finish(undefined, undefined, received);
      else if (result.status === 'complete') finish(undefined, result.header, received.subarray(result.length));
    };
    const onEnd = () => finish(new ProxyProtocolError('connection closed before the PROXY header ended'));
    const onError = (error: Error) => finish(error);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
  });
}

/** Whether the first bytes of a stream are (the start of) a PROXY header. */
export function startsWithProxyHeader(data: Buffer): boolean {
  return data.length > 0 && (mayStartWith(data, PROXY_V2_SIGNATURE) || mayStartWith(data, V1_PREFIX));
}
