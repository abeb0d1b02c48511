import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseDecoder, type ResponseHead } from '../../src/backends/s3/responseDecoder.js';

interface Decoded {
  heads: ResponseHead[];
  body: Buffer;
  ended: number;
}

/** Feeds `wire` to a decoder in pieces cut at `cuts`; body views are copied as they come, as a caller must. */
function decode(wire: Buffer, cuts: number[] = [], connectionEnds = false): Decoded {
  const decoded: Decoded = { heads: [], body: Buffer.alloc(0), ended: 0 };
  const parts: Buffer[] = [];
  const decoder = new ResponseDecoder({
    head: (head) => decoded.heads.push(head),
    body: (view) => parts.push(Buffer.from(view)),
    end: () => decoded.ended++,
  });
  let from = 0;
  for (const cut of [...cuts, wire.length]) {
    // The same reused buffer for every piece, overwritten after each push.
    const piece = Buffer.from(wire.subarray(from, cut));
    decoder.push(piece);
    piece.fill(0x58);
    from = cut;
  }
  if (connectionEnds) decoder.finish();
  decoded.body = Buffer.concat(parts);
  return decoded;
}

const body = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256));

function chunked(data: Buffer, sizes: number[]): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(Buffer.from(`${size.toString(16)};ext=1\r\n`), data.subarray(at, at + size), Buffer.from('\r\n'));
    at += size;
  }
  parts.push(Buffer.from('0\r\nx-trailer: yes\r\n\r\n'));
  return Buffer.concat(parts);
}

describe('ResponseDecoder (HTTP/1.1 responses to S3 GETs)', () => {
  const lengthResponse = Buffer.concat([Buffer.from('HTTP/1.1 206 Partial Content\r\nContent-Length: 300\r\nETag: "abc"\r\nX-Amz-Meta-A: 1\r\nx-amz-meta-a: 2\r\n\r\n'), body]);

  it('a Content-Length body, split at every byte, gives the head once, the exact bytes and one end', () => {
    for (let cut = 0; cut <= lengthResponse.length; cut++) {
      const decoded = decode(lengthResponse, [cut]);
      assert.equal(decoded.heads.length, 1, `cut at ${cut}`);
      assert.deepEqual(decoded.body, body, `cut at ${cut}`);
      assert.equal(decoded.ended, 1, `cut at ${cut}`);
    }
    const [head] = decode(lengthResponse).heads;
    assert.equal(head!.statusCode, 206);
    assert.equal(head!.reason, 'Partial Content');
    assert.equal(head!.headers.etag, '"abc"');
    assert.equal(head!.headers['x-amz-meta-a'], '1, 2', 'repeated headers are joined, names in lower case');
  });

  it('a chunked body, split at every byte, gives the exact bytes without sizes, extensions or trailers', () => {
    const wire = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), chunked(body, [1, 255, 44])]);
    for (let cut = 0; cut <= wire.length; cut++) {
      const decoded = decode(wire, [cut]);
      assert.deepEqual(decoded.body, body, `cut at ${cut}`);
      assert.equal(decoded.ended, 1, `cut at ${cut}`);
    }
    // And fed one byte at a time.
    const decoded = decode(wire, Array.from({ length: wire.length }, (_, i) => i));
    assert.deepEqual(decoded.body, body);
  });

  it('a body without length or chunking runs to the end of the connection', () => {
    const wire = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), body]);
    const open = decode(wire, [50]);
    assert.equal(open.ended, 0, 'not complete while the connection is open');
    const closed = decode(wire, [50], true);
    assert.deepEqual(closed.body, body);
    assert.equal(closed.ended, 1);
  });

  it('interim 100 Continue responses are skipped; 204 and Content-Length 0 end at the head', () => {
    const wire = Buffer.concat([Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'), lengthResponse]);
    const decoded = decode(wire, [10, 30]);
    assert.equal(decoded.heads.length, 1);
    assert.equal(decoded.heads[0]!.statusCode, 206);
    assert.deepEqual(decoded.body, body);
    for (const empty of ['HTTP/1.1 204 No Content\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']) {
      const result = decode(Buffer.from(empty));
      assert.equal(result.ended, 1, empty);
      assert.equal(result.body.length, 0);
    }
  });

  it('a connection that ends before the body does is an error, not a short body', () => {
    assert.throws(() => decode(lengthResponse.subarray(0, lengthResponse.length - 1), [], true), /closed the connection before the end of the response/);
    assert.throws(() => decode(Buffer.from('HTTP/1.1 200 OK\r\nContent-'), [], true), /before the end of the response \(head\)/);
    const wire = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), chunked(body, [300])]);
    assert.throws(() => decode(wire.subarray(0, wire.length - 3), [], true), /before the end of the response/);
  });

  it('malformed responses are errors that name what is wrong', () => {
    assert.throws(() => decode(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), /not an HTTP\/1.1 response/);
    assert.throws(() => decode(Buffer.from('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n')), /malformed header/);
    assert.throws(() => decode(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')), /bad Content-Length/);
    assert.throws(() => decode(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')), /malformed chunk size/);
    assert.throws(() => decode(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n')), /no CRLF after a chunk/);
    assert.throws(() => decode(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70 * 1024)}`)), /over 64 KiB/);
  });
});
