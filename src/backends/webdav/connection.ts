import type { Readable } from 'node:stream';
import { AuthType, createClient, type WebDAVClient } from 'webdav';
import { HttpStatusError } from './errors.js';

/** How to reach a WebDAV server. */
export interface WebDAVConnectionOptions {
  /** Base URL of the tree to expose, e.g. `https://cloud.example.com/remote.php/dav/files/alice/`. */
  url: string;
  /** HTTP Basic (or Digest, negotiated) credentials. */
  username?: string;
  password?: string;
  /** A bearer token (OAuth access token), sent as `Authorization: Bearer ...`. */
  bearerToken?: string;
  /** Extra headers sent with every request (API keys, a custom User-Agent...). */
  headers?: Record<string, string>;
  /**
   * Store `\` in names as U+FF3C (＼, FULLWIDTH REVERSE SOLIDUS), as rclone's
   * name encoding does, for servers that take a backslash for a path
   * separator (IIS, the npm webdav-server). Off by default.
   */
  encodeBackslash?: boolean;
}

const FULLWIDTH_BACKSLASH = '\uFF3C';

/** A response whose status was below 400. */
export interface DavResponse {
  status: number;
  headers: { get(name: string): string | null };
  /** The body as a Node stream (node-fetch), for streamed reads and listings. */
  body: Readable | null;
  text(): Promise<string>;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Buffer | Readable;
  signal?: AbortSignal;
}

/** Encodes each segment of an FS path for a URL; `/` stays the separator. */
export function encodePathForUrl(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * HTTP to one WebDAV tree, through the `webdav` package's client (which
 * handles Basic, Digest and token auth). Paths are FS paths (`/a/b`); the
 * URL is built here, with every segment percent-encoded, so names with `%`,
 * `?` or `#` reach the server intact.
 */
export class WebDAVConnection {
  private readonly client: WebDAVClient;
  /** The base URL without its trailing slash. */
  readonly base: string;
  /** The decoded path of the base URL, without trailing slash (`''` for the server root). */
  readonly basePath: string;
  private readonly encodeBackslash: boolean;

  constructor(options: WebDAVConnectionOptions, agents: { http?: unknown; https?: unknown } = {}) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`WebDAV URL must be http(s): ${options.url}`);
    this.base = url.href.replace(/\/+$/, '');
    this.basePath = decodeURIComponent(url.pathname).replace(/\/+$/, '');
    this.encodeBackslash = options.encodeBackslash ?? false;
    if (options.bearerToken !== undefined && options.username !== undefined) {
      throw new TypeError('WebDAV: give a username/password or a bearer token, not both');
    }
    this.client = createClient(this.base, {
      headers: options.headers,
      httpAgent: agents.http,
      httpsAgent: agents.https,
      ...(options.bearerToken !== undefined
        ? { authType: AuthType.Token, token: { access_token: options.bearerToken, token_type: 'Bearer' } }
        : options.username !== undefined
          ? { authType: AuthType.Auto, username: options.username, password: options.password ?? '' }
          : {}),
    });
  }

  /** The absolute URL of an FS path (for requests and the MOVE/COPY `Destination` header). */
  urlOf(path: string): string {
    return this.base + encodePathForUrl(this.encodeBackslash ? path.replace(/\\/g, FULLWIDTH_BACKSLASH) : path);
  }

  /** A name as the server stores it, back in FS terms (undoing `encodeBackslash`). */
  decodeName(name: string): string {
    return this.encodeBackslash ? name.replaceAll(FULLWIDTH_BACKSLASH, '\\') : name;
  }

  /**
   * Sends one request; resolves with the response when the status is below
   * 400, rejects with {@link HttpStatusError} otherwise (network failures
   * reject with the underlying error).
   */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<DavResponse> {
    try {
      const response = await this.client.customRequest(path, {
        method,
        url: this.urlOf(path),
        headers: options.headers,
        data: options.body as string | Buffer | undefined,
        signal: options.signal,
      });
      return response as unknown as DavResponse;
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      if (typeof status === 'number') {
        const response = (err as { response?: { statusText?: string; body?: Readable | null } }).response;
        // An error body nobody reads would hold the connection.
        response?.body?.resume?.();
        throw new HttpStatusError(status, response?.statusText ?? '', method);
      }
      throw err;
    }
  }
}
