/** The status line and headers of an HTTP/1.1 response; header names in lower case. */
export interface ResponseHead {
  statusCode: number;
  reason: string;
  headers: Record<string, string>;
}

export interface ResponseEvents {
  head(head: ResponseHead): void;
  /** Body bytes: a view that is valid only during the call (the receive buffer is reused). */
  body(view: Buffer): void;
  end(): void;
}

/** A response head larger than this is not an S3 server's. */
const MAX_HEAD = 64 * 1024;
/** A chunk-size or trailer line longer than this is malformed. */
const MAX_LINE = 4 * 1024;

type Framing =
  | { kind: 'head' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunk-size' }
  | { kind: 'chunk-data'; remaining: number }
  | { kind: 'chunk-crlf'; remaining: number }
  | { kind: 'trailer' }
  | { kind: 'until-close' }
  | { kind: 'done' };

/**
 * Decodes one HTTP/1.1 response to a GET as its bytes arrive: the head, then
 * a body delimited by Content-Length, chunked transfer coding, or the end of
 * the connection. Body bytes are passed on as views of the bytes given to
 * `push`, so a caller reading into one reused buffer never allocates per read.
 * Interim (1xx) responses are skipped. Throws on a malformed response.
 */
export class ResponseDecoder {
  private framing: Framing = { kind: 'head' };
  private head = Buffer.alloc(0);
  private line = '';

  constructor(private readonly events: ResponseEvents) {}

  /** Whether the whole response has been decoded. */
  get done(): boolean {
    return this.framing.kind === 'done';
  }

  push(data: Buffer): void {
    let rest = data;
    while (rest.length > 0 && this.framing.kind !== 'done') rest = this.step(rest);
  }

  /** The connection ended: completes a body that runs to the end of the connection; throws if the response was cut short. */
  finish(): void {
    if (this.framing.kind === 'until-close') {
      this.complete();
      return;
    }
    if (this.framing.kind !== 'done') throw new Error(`the S3 server closed the connection before the end of the response (${this.framing.kind})`);
  }

  /** Consumes a prefix of `data` in the current state; returns the rest. */
  private step(data: Buffer): Buffer {
    const framing = this.framing;
    switch (framing.kind) {
      case 'head':
        return this.readHead(data);
      case 'length':
      case 'chunk-data': {
        const take = Math.min(framing.remaining, data.length);
        framing.remaining -= take;
        this.events.body(data.subarray(0, take));
        if (framing.remaining === 0) {
          if (framing.kind === 'length') this.complete();
          else this.framing = { kind: 'chunk-crlf', remaining: 2 };
        }
        return data.subarray(take);
      }
      case 'chunk-crlf': {
        // The CRLF after a chunk's data; tolerated as a bare LF.
        let used = 0;
        while (used < data.length && framing.remaining > 0) {
          const byte = data[used++];
          if (byte === 0x0a) framing.remaining = 0;
          else if (byte === 0x0d) framing.remaining = 1;
          else throw new Error('malformed chunked body from the S3 server (no CRLF after a chunk)');
        }
        if (framing.remaining === 0) this.framing = { kind: 'chunk-size' };
        return data.subarray(used);
      }
      case 'chunk-size':
      case 'trailer':
        return this.readLine(data);
      case 'until-close':
        this.events.body(data);
        return data.subarray(data.length);
      case 'done':
        return data.subarray(data.length);
    }
  }

  private readHead(data: Buffer): Buffer {
    const previous = this.head.length;
    this.head = previous === 0 ? Buffer.from(data) : Buffer.concat([this.head, data]);
    const end = this.head.indexOf('\r\n\r\n', Math.max(0, previous - 3));
    if (end < 0) {
      if (this.head.length > MAX_HEAD) throw new Error('the S3 server sent a response head over 64 KiB');
      return data.subarray(data.length);
    }
    const rest = this.head.subarray(end + 4);
    const head = parseHead(this.head.toString('latin1', 0, end));
    this.head = Buffer.alloc(0);
    if (head.statusCode >= 100 && head.statusCode < 200) return rest; // 100 Continue and the like: the real response follows
    this.framing = bodyFraming(head);
    this.events.head(head);
    if (this.framing.kind === 'done') this.events.end();
    return rest;
  }

  /** Accumulates one line of the chunked coding (a chunk size, or a trailer) and acts on it when complete. */
  private readLine(data: Buffer): Buffer {
    const newline = data.indexOf(0x0a);
    const end = newline < 0 ? data.length : newline;
    this.line += data.toString('latin1', 0, end);
    if (this.line.length > MAX_LINE) throw new Error('malformed chunked body from the S3 server (line too long)');
    if (newline < 0) return data.subarray(data.length);
    const line = this.line.replace(/\r$/, '');
    this.line = '';
    if (this.framing.kind === 'trailer') {
      if (line === '') this.complete();
      return data.subarray(newline + 1);
    }
    const sizeText = line.split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) throw new Error(`malformed chunk size from the S3 server: ${JSON.stringify(line.slice(0, 40))}`);
    const size = parseInt(sizeText, 16);
    this.framing = size === 0 ? { kind: 'trailer' } : { kind: 'chunk-data', remaining: size };
    return data.subarray(newline + 1);
  }

  private complete(): void {
    this.framing = { kind: 'done' };
    this.events.end();
  }
}

function parseHead(text: string): ResponseHead {
  const [statusLine, ...lines] = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine ?? '');
  if (!status) throw new Error(`not an HTTP/1.1 response from the S3 server: ${JSON.stringify((statusLine ?? '').slice(0, 60))}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header from the S3 server: ${JSON.stringify(line.slice(0, 60))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { statusCode: Number(status[1]), reason: status[2] ?? '', headers };
}

/** How the body of a response to a GET is delimited (RFC 9112 section 6.3). */
function bodyFraming(head: ResponseHead): Framing {
  if (head.statusCode === 204 || head.statusCode === 304) return { kind: 'done' };
  const transferEncoding = head.headers['transfer-encoding'];
  if (transferEncoding !== undefined) {
    if (/(^|,)\s*chunked\s*$/i.test(transferEncoding)) return { kind: 'chunk-size' };
    return { kind: 'until-close' };
  }
  const contentLength = head.headers['content-length'];
  if (contentLength !== undefined) {
    if (!/^\d{1,15}$/.test(contentLength)) throw new Error(`bad Content-Length from the S3 server: ${JSON.stringify(contentLength)}`);
    const length = Number(contentLength);
    return length === 0 ? { kind: 'done' } : { kind: 'length', remaining: length };
  }
  return { kind: 'until-close' };
}
