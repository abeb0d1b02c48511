import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { PROXY_V2_SIGNATURE, ProxyProtocolError, parseProxyHeader, readProxyHeader } from '../../src/server/defence/proxyProtocol.js';

/** A v2 header as HAProxy's send-proxy-v2 writes it. */
function v2Header(command: number, family: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | command;
  head[1] = family;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, head, body]);
}

function v2Tcp4(source: string, sourcePort: number, destination: string, destinationPort: number, extra = Buffer.alloc(0)): Buffer {
  const body = Buffer.alloc(12);
  Buffer.from(source.split('.').map(Number)).copy(body, 0);
  Buffer.from(destination.split('.').map(Number)).copy(body, 4);
  body.writeUInt16BE(sourcePort, 8);
  body.writeUInt16BE(destinationPort, 10);
  return v2Header(1, 0x11, Buffer.concat([body, extra]));
}

const SSH_IDENT = Buffer.from('SSH-2.0-OpenSSH_9.2\r\n');

describe('parseProxyHeader v1', () => {
  it('reads TCP4 and TCP6 lines and says where the SSH stream starts', () => {
    const line = Buffer.from('PROXY TCP4 192.0.2.10 198.51.100.1 56324 2022\r\n');
    const result = parseProxyHeader(Buffer.concat([line, SSH_IDENT]));
    assert.deepEqual(result, {
      status: 'complete',
      header: { version: 1, source: { address: '192.0.2.10', port: 56324 }, destination: { address: '198.51.100.1', port: 2022 } },
      length: line.length,
    });
    const six = parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 4000 22\r\n'));
    assert.equal(six.status === 'complete' && six.header.source?.address, '2001:db8::7');
  });

  it('UNKNOWN carries no address', () => {
    const result = parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'));
    assert.deepEqual(result, { status: 'complete', header: { version: 1 }, length: 15 });
  });

  it('waits for more bytes while the line is incomplete, at every split', () => {
    const line = Buffer.from('PROXY TCP4 192.0.2.10 198.51.100.1 56324 2022\r\n');
    for (let i = 1; i < line.length; i++) assert.equal(parseProxyHeader(line.subarray(0, i)).status, 'incomplete', `after ${i} bytes`);
  });

  it('refuses malformed lines', () => {
    for (const bad of [
      'PROXY TCP4 192.0.2.10 198.51.100.1 56324\r\n',
      'PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n',
      'PROXY TCP5 192.0.2.10 198.51.100.1 1 2\r\n',
      'PROXY TCP4 192.0.2.10 198.51.100.1 65536 2\r\n',
      'PROXY TCP4 192.0.2.10 198.51.100.1 01 2\r\n',
      'PROXY TCP4 999.0.2.10 198.51.100.1 1 2\r\n',
    ]) {
      assert.throws(() => parseProxyHeader(Buffer.from(bad)), ProxyProtocolError, bad);
    }
    assert.throws(() => parseProxyHeader(Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`)), /longer than 107/);
  });

  it('says absent for a stream that starts with SSH', () => {
    assert.deepEqual(parseProxyHeader(SSH_IDENT), { status: 'absent' });
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXX')), { status: 'absent' });
  });
});

describe('parseProxyHeader v2', () => {
  it('reads an IPv4 PROXY header, skipping TLVs', () => {
    const tlv = Buffer.from([0x04, 0x00, 0x02, 0xab, 0xcd]); // a NOOP TLV
    const header = v2Tcp4('203.0.113.77', 40000, '10.0.0.5', 2022, tlv);
    const result = parseProxyHeader(Buffer.concat([header, SSH_IDENT]));
    assert.deepEqual(result, {
      status: 'complete',
      header: { version: 2, source: { address: '203.0.113.77', port: 40000 }, destination: { address: '10.0.0.5', port: 2022 } },
      length: header.length,
    });
  });

  it('reads an IPv6 PROXY header in canonical text form', () => {
    const body = Buffer.alloc(36);
    Buffer.from('20010db8000000000000000000000042', 'hex').copy(body, 0);
    Buffer.from('20010db8000000010000000000000001', 'hex').copy(body, 16);
    body.writeUInt16BE(5555, 32);
    body.writeUInt16BE(22, 34);
    const result = parseProxyHeader(v2Header(1, 0x21, body));
    assert.ok(result.status === 'complete');
    assert.deepEqual(result.header.source, { address: '2001:db8::42', port: 5555 });
    assert.deepEqual(result.header.destination, { address: '2001:db8:0:1::1', port: 22 });
  });

  it('LOCAL (a health check) and AF_UNIX carry no client address', () => {
    const local = parseProxyHeader(v2Header(0, 0x00, Buffer.alloc(0)));
    assert.deepEqual(local, { status: 'complete', header: { version: 2 }, length: 16 });
    const unix = parseProxyHeader(v2Header(1, 0x31, Buffer.alloc(216)));
    assert.deepEqual(unix, { status: 'complete', header: { version: 2 }, length: 232 });
  });

  it('waits for the whole header, at every split', () => {
    const header = v2Tcp4('203.0.113.77', 40000, '10.0.0.5', 2022);
    for (let i = 1; i < header.length; i++) assert.equal(parseProxyHeader(header.subarray(0, i)).status, 'incomplete', `after ${i} bytes`);
  });

  it('refuses bad versions, commands, short bodies and huge lengths', () => {
    const good = v2Tcp4('203.0.113.77', 40000, '10.0.0.5', 2022);
    const badVersion = Buffer.from(good);
    badVersion[12] = 0x11;
    assert.throws(() => parseProxyHeader(badVersion), /version 1/);
    const badCommand = Buffer.from(good);
    badCommand[12] = 0x22;
    assert.throws(() => parseProxyHeader(badCommand), /command 2/);
    assert.throws(() => parseProxyHeader(v2Header(1, 0x11, Buffer.alloc(8))), /too short/);
    const huge = Buffer.from(good.subarray(0, 16));
    huge.writeUInt16BE(60_000, 14);
    assert.throws(() => parseProxyHeader(huge), ProxyProtocolError);
  });
});

describe('readProxyHeader on a real socket', () => {
  /** Sends `chunks` (one write each, so they may arrive split) and returns what readProxyHeader saw and what came after. */
  async function exchange(chunks: Buffer[]): Promise<{ header: unknown; rest: Buffer }> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    try {
      const [socket] = (await once(server, 'connection')) as [Socket];
      for (const chunk of chunks) {
        client.write(chunk);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const header = await readProxyHeader(socket);
      // The next reader gets exactly what followed the header.
      const restChunks: Buffer[] = [];
      socket.on('data', (data: Buffer) => restChunks.push(data));
      socket.resume(); // readProxyHeader leaves it paused, as ssh2 expects
      client.end();
      await once(socket, 'end');
      socket.destroy();
      return { header, rest: Buffer.concat(restChunks) };
    } finally {
      client.destroy();
      server.close();
    }
  }

  it('consumes exactly the header, split over several packets', async () => {
    const line = 'PROXY TCP4 192.0.2.10 198.51.100.1 56324 2022\r\n';
    const { header, rest } = await exchange([Buffer.from(line.slice(0, 9)), Buffer.from(line.slice(9) + 'SSH-2.0-x\r\n')]);
    assert.deepEqual(header, { version: 1, source: { address: '192.0.2.10', port: 56324 }, destination: { address: '198.51.100.1', port: 2022 } });
    assert.equal(rest.toString(), 'SSH-2.0-x\r\n');
  });

  it('leaves a stream without a header untouched', async () => {
    const { header, rest } = await exchange([SSH_IDENT]);
    assert.equal(header, undefined);
    assert.deepEqual(rest, SSH_IDENT);
  });
});
