import net from 'node:net';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { ResponseDecoder, type ResponseHead } from './responseDecoder.js';

/**
 * The handler option (on `client.send(command, options)`) that asks for a
 * GET answered by {@link directGet}: its body is a {@link DirectBody}.
 */
export const DIRECT_BODY = 'sftpExposeDirectBody';

/** Bytes read from the socket at a time, into one buffer reused for the whole GET. */
const RECEIVE_BUFFER = 256 * 1024;

/** The parts of the SDK's HttpRequest (@smithy/protocol-http) a GET needs. */
export interface SignedRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

/** What the SDK's deserializers read of a response (@smithy/protocol-http HttpResponse). */
export interface DirectResponse {
  statusCode: number;
  reason: string;
  headers: Record<string, string>;
  body: DirectBody;
}

export interface DirectGetSettings {
  connectionTimeoutMs: number;
  /** Longest wait for bytes while the reader wants them (not while it has paused the body). */
  requestTimeoutMs: number;
  /** CA certificates for HTTPS, when not only Node's own. */
  ca?: string[];
}

/** Who consumes a DirectBody's bytes without a Readable in between (see DirectBody.deliverTo). */
export interface BodySink {
  /** A view of the receive buffer, valid only during the call: copy what is kept. */
  data(view: Buffer): void;
  end(): void;
  error(error: Error): void;
}

/** Flow control of a body taken by a BodySink. */
export interface BodyControl {
  pause(): void;
  resume(): void;
  destroy(): void;
}

/**
 * The body of a response read by {@link directGet}. It is a Readable, as the
 * SDK requires (its error parsing reads the body that way; bytes are then
 * copied). A reader that copies what it keeps calls `deliverTo` instead and
 * gets each socket read as a view of one reused buffer: no Buffer per read,
 * which in Node's HTTP client costs more CPU (allocation and the garbage
 * collections it causes) than the download itself.
 */
export class DirectBody extends Readable {
  private sink?: BodySink;
  private complete = false;
  private failure?: Error;
  private handedOver = false;

  /** Flow control of the connection, for a BodySink. */
  readonly control: BodyControl;

  constructor(connection: BodyControl) {
    super();
    this.control = connection;
  }

  /**
   * Hands the body to `sink`: the bytes already buffered as a Readable first,
   * then each read as it arrives. From then on the Readable side is unused.
   */
  deliverTo(sink: BodySink): void {
    // Resumed first (bytes come no sooner than the next turn of the event loop), so that a sink
    // pausing while it takes the buffered bytes stays paused: `_read` no longer resumes.
    this.handedOver = true;
    this.control.resume();
    let chunk: Buffer | null;
    while ((chunk = this.read() as Buffer | null) !== null) sink.data(chunk);
    this.sink = sink;
    if (this.failure) sink.error(this.failure);
    else if (this.complete) sink.end();
  }

  /** @internal Bytes from the connection (a view valid during the call). */
  received(view: Buffer): void {
    if (this.sink) this.sink.data(view);
    else if (!this.push(Buffer.from(view))) this.control.pause();
  }

  /** @internal The body is complete. */
  finished(): void {
    this.complete = true;
    if (this.sink) this.sink.end();
    else this.push(null);
  }

  /** @internal The connection failed before the body was complete. */
  failed(error: Error): void {
    this.failure = error;
    if (this.sink) this.sink.error(error);
    else this.destroy(error);
  }

  override _read(): void {
    if (!this.handedOver) this.control.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.control.destroy();
    callback(error);
  }
}

/**
 * Sends one signed GET on a connection of its own and resolves with the
 * response once its head has arrived. Reads go into one reused buffer and the
 * body is decoded in place (see ResponseDecoder), which is what makes
 * {@link DirectBody} allocation-free. The connection is closed after the
 * response: these GETs stream whole objects, so a handshake per GET is noise.
 */
export function directGet(request: SignedRequest, settings: DirectGetSettings, signal?: AbortSignal): Promise<DirectResponse> {
  return new Promise<DirectResponse>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const https = request.protocol === 'https:';
    const host = request.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = request.port ?? (https ? 443 : 80);
    let head: string;
    try {
      head = requestHead(request, host, port, https);
    } catch (error) {
      reject(error as Error);
      return;
    }
    let body: DirectBody | undefined;
    let paused = false;
    let settled = false;

    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      if (body) body.failed(error);
      else reject(error);
    };
    const control: BodyControl = {
      pause: () => {
        paused = true;
        socket.setTimeout(0);
        socket.pause();
      },
      resume: () => {
        if (!paused) return;
        paused = false;
        socket.setTimeout(settings.requestTimeoutMs);
        socket.resume();
      },
      destroy: () => fail(abortError()),
    };
    const decoder = new ResponseDecoder({
      head: (head) => {
        body = new DirectBody(control);
        resolve(toResponse(head, body));
      },
      body: (view) => body!.received(view),
      end: () => {
        settled = true;
        cleanup();
        socket.destroy();
        body!.finished();
      },
    });
    const onread = {
      buffer: Buffer.allocUnsafe(RECEIVE_BUFFER),
      callback: (bytes: number, buffer: Buffer) => {
        try {
          decoder.push(buffer.subarray(0, bytes));
        } catch (error) {
          fail(error as Error);
        }
        return true;
      },
    };
    const socket = https
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ca: settings.ca, onread } as tls.ConnectionOptions)
      : net.connect({ host, port, onread });
    const connectTimer = setTimeout(() => fail(timeoutError(`connecting to ${host}:${port} took over ${settings.connectionTimeoutMs} ms`)), settings.connectionTimeoutMs);
    const onAbort = () => fail(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(connectTimer);
      signal?.removeEventListener('abort', onAbort);
    };

    socket.once(https ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer);
      socket.setNoDelay(true);
      socket.setTimeout(settings.requestTimeoutMs);
      socket.write(head);
    });
    socket.on('timeout', () => fail(timeoutError(`no data from the S3 server for ${settings.requestTimeoutMs} ms`)));
    socket.on('error', fail);
    socket.on('end', () => {
      try {
        decoder.finish();
      } catch (error) {
        fail(error as Error);
      }
    });
    socket.on('close', () => fail(new Error('the connection to the S3 server closed before the end of the response')));
  });
}

/** The request line and headers, as the SDK signed them. */
function requestHead(request: SignedRequest, host: string, port: number, https: boolean): string {
  const query = request.query ? queryString(request.query) : '';
  const target = query ? `${request.path}?${query}` : request.path;
  if (/[\s]/.test(target)) throw new Error('request path with whitespace');
  const lines = [`${request.method} ${target} HTTP/1.1`];
  let hasHost = false;
  for (const [name, value] of Object.entries(request.headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`header ${JSON.stringify(name)} contains a line break`);
    if (name.toLowerCase() === 'host') hasHost = true;
    if (name.toLowerCase() !== 'connection') lines.push(`${name}: ${value}`);
  }
  if (!hasHost) lines.push(`host: ${host.includes(':') ? `[${host}]` : host}${port === (https ? 443 : 80) ? '' : `:${port}`}`);
  lines.push('connection: close');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The query as the SDK's Node handler writes it: keys sorted, RFC 3986 escapes. */
function queryString(query: Record<string, string | string[] | null>): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    if (Array.isArray(value)) for (const item of value) parts.push(`${escape(key)}=${escape(item)}`);
    else parts.push(value === null || value === undefined ? escape(key) : `${escape(key)}=${escape(value)}`);
  }
  return parts.join('&');
}

function escape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function toResponse(head: ResponseHead, body: DirectBody): DirectResponse {
  return { statusCode: head.statusCode, reason: head.reason, headers: head.headers, body };
}

/** Named as the SDK's handler names a timeout, so that its retry strategy retries it. */
function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError', code: 'ETIMEDOUT' });
}

function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}

/** What the SDK calls on its request handler (@smithy/types HttpHandler), as far as this wrapper needs. */
interface SdkRequestHandler {
  handle(request: SignedRequest, options?: Record<string, unknown>): Promise<{ response: unknown }>;
  destroy?(): void;
  updateHttpClientConfig?(key: never, value: never): void;
  httpHandlerConfigs?(): unknown;
  metadata?: unknown;
}

/**
 * The S3 client's request handler with {@link directGet} added: a GET sent
 * with the {@link DIRECT_BODY} option goes through it, every other request
 * through the SDK's own handler. Signing, retries and error parsing stay the
 * SDK's: only the bytes on the wire are handled here.
 */
export class DirectBodyHandler implements SdkRequestHandler {
  constructor(
    private readonly inner: SdkRequestHandler,
    private readonly settings: DirectGetSettings,
  ) {}

  get metadata(): unknown {
    return this.inner.metadata;
  }

  handle(request: SignedRequest, options?: Record<string, unknown>): Promise<{ response: unknown }> {
    if (options?.[DIRECT_BODY] !== true || request.method !== 'GET' || request.body !== undefined) return this.inner.handle(request, options);
    const timeout = typeof options.requestTimeout === 'number' ? { ...this.settings, requestTimeoutMs: options.requestTimeout } : this.settings;
    return directGet(request, timeout, options.abortSignal as AbortSignal | undefined).then((response) => ({ response }));
  }

  destroy(): void {
    this.inner.destroy?.();
  }

  updateHttpClientConfig(key: never, value: never): void {
    this.inner.updateHttpClientConfig?.(key, value);
  }

  httpHandlerConfigs(): unknown {
    return this.inner.httpHandlerConfigs?.() ?? {};
  }
}
