import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { PassThrough, type Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import {
  AlreadyExists,
  DirectoryNotEmpty,
  InvalidArgument,
  IsADirectory,
  NotADirectory,
  PermissionDenied,
  ResourceNotFound,
} from '../../fs/errors.js';
import { FS } from '../../fs/FS.js';
import { basename, dirname, isInside, normalizePath } from '../../fs/path.js';
import type { DirEntry, FileHandle, OpenFlags, SetAttributes, Stats } from '../../fs/types.js';
import { WebDAVConnection, type WebDAVConnectionOptions } from './connection.js';
import { HttpStatusError, fromRequestError } from './errors.js';
import { WebDAVFileHandle } from './handle.js';
import { PROPFIND_BODY, parseMultistatus, type PropfindEntry } from './multistatus.js';
import { StreamingUpload } from './upload.js';

/** Options of {@link WebDAVFS}. */
export interface WebDAVFSOptions extends WebDAVConnectionOptions {
  /** Bytes a write may land ahead of the data sent so far before it is refused (default 8 MiB). */
  reorderWindow?: number;
  /** PEM CA certificate(s) trusted for an https:// server besides Node's built-in roots (a private CA, a self-signed server). */
  caCertificates?: string | Buffer;
}

const FILE_MODE = 0o644;
const DIRECTORY_MODE = 0o755;
const PROPFIND_HEADERS = { 'Content-Type': 'application/xml; charset=utf-8' };

/**
 * Any WebDAV server (Nextcloud/ownCloud, Apache mod_dav, nginx dav,
 * `rclone serve webdav`...) as a filesystem: PROPFIND lists (depth 1,
 * parsed as it streams in) and stats (depth 0), MKCOL makes directories,
 * MOVE renames (`Overwrite: F`, or `T` for posixRename), DELETE removes,
 * ranged GETs read with read-ahead, and each written file is one streaming
 * PUT. See docs/webdav.md for what WebDAV cannot express (symlinks, modes,
 * owners, settable times, random-access writes).
 *
 * ```ts
 * const fs = new WebDAVFS({ url: 'https://cloud.example.com/remote.php/dav/files/alice/', username: 'alice', password });
 * ```
 */
export class WebDAVFS extends FS {
  private readonly connection: WebDAVConnection;
  private readonly agents: { http: HttpAgent; https: HttpsAgent };
  private readonly reorderWindow: number;

  constructor(options: WebDAVFSOptions) {
    super();
    // Our own keep-alive agents, so close() can release their sockets.
    const ca = options.caCertificates === undefined ? undefined : [...rootCertificates, options.caCertificates.toString()];
    this.agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 32 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 32, ca }) };
    this.connection = new WebDAVConnection(options, this.agents);
    this.reorderWindow = options.reorderWindow ?? 8 * 1024 * 1024;
  }

  async open(path: string, flags: OpenFlags, attrs?: SetAttributes): Promise<FileHandle> {
    void attrs; // WebDAV stores no modes or owners.
    const existingEntry = await this.propfindOrUndefined(path);
    const existing = existingEntry && statsOf(existingEntry);
    if (existing?.type === 'directory') throw new IsADirectory(path);
    if (existing && flags.create && flags.exclusive) throw new AlreadyExists(path);
    if (!existing) {
      if (!flags.create) throw new ResourceNotFound(path);
      await this.requireDirectory(dirname(path), path);
    }
    const writes = flags.write || flags.append;
    const mustWrite = writes && (!existing || flags.truncate);
    const now = Date.now() / 1000;
    const stats: Stats = existing && !mustWrite ? existing : fileStats(0, now);
    return new WebDAVFileHandle({
      connection: this.connection,
      path,
      flags,
      stats,
      mustWrite: mustWrite || (!existing && flags.create),
      reorderWindow: this.reorderWindow,
      existingContent: () => this.download(path, existing?.size ?? 0),
      statPath: () => this.stat(path),
      resize: (size) => this.resize(path, size, existing?.size ?? 0),
      discardPartial: () => this.discardPartial(path, existingEntry),
    });
  }

  async *listdir(path: string): AsyncIterable<DirEntry> {
    let response;
    try {
      response = await this.connection.request('PROPFIND', path, { headers: { ...PROPFIND_HEADERS, Depth: '1' }, body: PROPFIND_BODY });
    } catch (err) {
      throw await this.explain(err, path);
    }
    const body = response.body;
    if (!body) throw new ResourceNotFound(path);
    // Entries seen before the collection's own entry wait: a file answers depth 1 with itself alone.
    const early: DirEntry[] = [];
    let selfSeen = false;
    try {
      for await (const entry of parseMultistatus(body)) {
        const entryPath = this.pathOfHref(entry.href);
        if (entryPath === path) {
          if (!entry.isCollection) throw new NotADirectory(path);
          selfSeen = true;
          yield* early.splice(0);
          continue;
        }
        if (entryPath === undefined || dirname(entryPath) !== path || entryPath === '/') continue;
        const dirEntry = { name: basename(entryPath), stats: statsOf(entry) };
        if (selfSeen) yield dirEntry;
        else early.push(dirEntry);
      }
    } catch (err) {
      throw fromRequestError(err, path);
    } finally {
      body.destroy();
    }
    yield* early;
  }

  async stat(path: string): Promise<Stats> {
    const entry = await this.propfindSelf(path);
    return statsOf(entry);
  }

  async setstat(path: string, attrs: SetAttributes): Promise<void> {
    const stats = await this.stat(path);
    if (attrs.size === undefined) return; // modes, owners and times: WebDAV keeps none (documented).
    if (stats.type === 'directory') throw new IsADirectory(path);
    await this.resize(path, attrs.size, stats.size);
  }

  async mkdir(path: string, _attrs?: SetAttributes): Promise<void> {
    if (path === '/') throw new AlreadyExists(path);
    // Some servers (rclone) answer MKCOL on an existing collection with 201 and make missing parents: check first.
    const [existing] = await Promise.all([this.statOrUndefined(path), this.requireDirectory(dirname(path), path)]);
    if (existing) throw new AlreadyExists(path);
    try {
      await this.connection.request('MKCOL', path);
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 405) throw new AlreadyExists(path);
      throw await this.explain(err, path);
    }
  }

  async rmdir(path: string): Promise<void> {
    if (path === '/') throw new PermissionDenied(path, { message: 'The root directory cannot be removed' });
    const stats = await this.stat(path);
    if (stats.type !== 'directory') throw new NotADirectory(path);
    // DELETE removes a collection with everything in it: refuse unless it is empty.
    for await (const _entry of this.listdir(path)) throw new DirectoryNotEmpty(path);
    await this.delete(path);
  }

  async remove(path: string): Promise<void> {
    const stats = await this.stat(path);
    if (stats.type === 'directory') throw new IsADirectory(path);
    await this.delete(path);
  }

  override async rename(from: string, to: string): Promise<void> {
    // Servers disagree on a missing source (404, 403, 500...): ask first.
    await this.stat(from);
    await this.move(from, to, false);
  }

  async posixRename(from: string, to: string): Promise<void> {
    if (from === to) {
      await this.stat(from);
      return;
    }
    const [source, target] = await Promise.all([this.stat(from), this.statOrUndefined(to)]);
    if (target) {
      // MOVE with Overwrite: T deletes any target, even a full collection: apply rename(2)'s rules first.
      if (source.type !== 'directory' && target.type === 'directory') throw new IsADirectory(to);
      if (source.type === 'directory' && target.type !== 'directory') throw new NotADirectory(to);
      if (target.type === 'directory') for await (const _entry of this.listdir(to)) throw new DirectoryNotEmpty(to);
    }
    await this.move(from, to, true);
  }

  override async realpath(path: string): Promise<string> {
    // No symlinks: the path is canonical once normalised; only existence (of it or its parent) is checked.
    const normal = normalizePath(path);
    if (normal === '/' || (await this.statOrUndefined(normal))) return normal;
    await this.requireDirectory(dirname(normal), normal);
    return normal;
  }

  /** Server-side COPY of a file (one request, no bytes through this process). */
  override async copy(from: string, to: string, overwrite: boolean): Promise<void> {
    const source = await this.stat(from);
    if (source.type === 'directory') throw new IsADirectory(from);
    if (!overwrite && (await this.statOrUndefined(to))) throw new AlreadyExists(to);
    await this.requireDirectory(dirname(to), to);
    try {
      await this.connection.request('COPY', from, {
        headers: { Destination: this.connection.urlOf(to), Overwrite: overwrite ? 'T' : 'F', Depth: '0' },
      });
    } catch (err) {
      throw await this.explain(err, to);
    }
  }

  override async close(): Promise<void> {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private async move(from: string, to: string, overwrite: boolean): Promise<void> {
    if (isInside(from, to) && from !== to) throw new InvalidArgument(to, { message: 'Cannot move a directory inside itself' });
    if (from === '/' || to === '/') throw new PermissionDenied(from, { message: 'The root directory cannot be moved or replaced' });
    // Some servers (rclone) create a missing destination parent: check it, as rename(2) would fail.
    await this.requireDirectory(dirname(to), to);
    try {
      await this.connection.request('MOVE', from, { headers: { Destination: this.connection.urlOf(to), Overwrite: overwrite ? 'T' : 'F' } });
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 412) throw new AlreadyExists(to);
      if (err instanceof HttpStatusError && (err.status === 404 || err.status === 409)) {
        if (!(await this.statOrUndefined(from))) throw await this.explain(new HttpStatusError(404, '', 'MOVE'), from);
        throw await this.explain(new HttpStatusError(409, '', 'MOVE'), to);
      }
      throw fromRequestError(err, from);
    }
  }

  /**
   * Servers differ on a PUT cut off mid-body: some keep the bytes that
   * arrived (rclone, the npm webdav-server), others keep the previous version
   * (those that write to a temporary file first). The entity tag tells which
   * happened: a file that is new, or whose tag changed, holds a partial
   * upload and is deleted; an unchanged one is the intact old version.
   */
  private async discardPartial(path: string, before: PropfindEntry | undefined): Promise<void> {
    const after = await this.propfindOrUndefined(path).catch(() => undefined);
    if (!after || after.isCollection) return;
    const unchanged = before !== undefined && before.etag !== undefined && before.etag === after.etag && before.size === after.size;
    if (unchanged) return;
    await this.delete(path).catch(() => {});
  }

  private async propfindOrUndefined(path: string): Promise<PropfindEntry | undefined> {
    try {
      return await this.propfindSelf(path);
    } catch (err) {
      if (err instanceof ResourceNotFound) return undefined;
      throw err;
    }
  }

  private async delete(path: string): Promise<void> {
    try {
      await this.connection.request('DELETE', path);
    } catch (err) {
      throw await this.explain(err, path);
    }
  }

  /** The whole-file rewrite behind a size change: the kept prefix streamed back, then zeros. */
  private async resize(path: string, size: number, currentSize: number): Promise<void> {
    if (size === currentSize) return;
    const kept = Math.min(size, currentSize);
    const upload = new StreamingUpload(this.connection, path, {
      reorderWindow: 0,
      prefix: kept > 0 ? { stream: () => this.download(path, kept), size: kept } : undefined,
    });
    const zeros = Buffer.alloc(Math.min(size - kept, 1024 * 1024));
    for (let offset = kept; offset < size; offset += zeros.length) await upload.write(offset, zeros.subarray(0, Math.min(zeros.length, size - offset)));
    await upload.finish();
  }

  /** A stream of the first `length` bytes of a file (one ranged GET). */
  private async download(path: string, length: number): Promise<Readable> {
    if (length === 0) return new PassThrough().end();
    try {
      const response = await this.connection.request('GET', path, { headers: { Range: `bytes=0-${length - 1}` } });
      if (!response.body) throw new ResourceNotFound(path);
      return response.body;
    } catch (err) {
      throw fromRequestError(err, path);
    }
  }

  private async propfindSelf(path: string): Promise<PropfindEntry> {
    try {
      const response = await this.connection.request('PROPFIND', path, { headers: { ...PROPFIND_HEADERS, Depth: '0' }, body: PROPFIND_BODY });
      const body = response.body;
      if (body) {
        try {
          for await (const entry of parseMultistatus(body)) return entry;
        } finally {
          body.destroy();
        }
      }
      throw new ResourceNotFound(path);
    } catch (err) {
      throw await this.explain(err, path);
    }
  }

  private async statOrUndefined(path: string): Promise<Stats | undefined> {
    try {
      return await this.stat(path);
    } catch (err) {
      if (err instanceof ResourceNotFound) return undefined;
      throw err;
    }
  }

  /** Fails unless `dir` is an existing directory (NotADirectory for a file, ResourceNotFound when missing). */
  private async requireDirectory(dir: string, forPath: string): Promise<void> {
    if (dir === '/') return;
    const stats = await this.statOrUndefined(dir);
    if (!stats) throw await this.explain(new HttpStatusError(404, '', 'PROPFIND'), forPath);
    if (stats.type !== 'directory') throw new NotADirectory(forPath);
  }

  /**
   * The FSError for a failed request. A 404 or 409 says only that something
   * on the way is missing; the ancestors tell whether one of them is a file
   * (NotADirectory, as POSIX reports) or really missing.
   */
  private async explain(err: unknown, path: string): Promise<Error> {
    if (!(err instanceof HttpStatusError) || (err.status !== 404 && err.status !== 409)) return fromRequestError(err, path);
    for (let ancestor = dirname(path); ancestor !== '/'; ancestor = dirname(ancestor)) {
      let entry: PropfindEntry | undefined;
      try {
        const response = await this.connection.request('PROPFIND', ancestor, { headers: { ...PROPFIND_HEADERS, Depth: '0' }, body: PROPFIND_BODY });
        if (response.body) {
          for await (const found of parseMultistatus(response.body)) {
            entry = found;
            break;
          }
          response.body.destroy();
        }
      } catch (ancestorErr) {
        if (ancestorErr instanceof HttpStatusError && ancestorErr.status === 404) continue;
        return fromRequestError(ancestorErr, path);
      }
      if (entry && !entry.isCollection) return new NotADirectory(path);
      break;
    }
    return fromRequestError(new HttpStatusError(404, '', 'PROPFIND'), path);
  }

  /** The FS path an `href` names, or undefined when it lies outside the base URL. */
  private pathOfHref(href: string): string | undefined {
    // Not `new URL`: some servers (webdav-server) leave `?` and `#` of names unencoded in hrefs.
    const pathname = href.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
    if (!pathname.startsWith('/')) return undefined;
    const decoded = pathname
      .split('/')
      .map((segment) => this.connection.decodeName(safeDecode(segment)))
      .join('/');
    const base = this.connection.basePath;
    if (base !== '' && decoded !== base && !decoded.startsWith(base + '/')) return undefined;
    return normalizePath(decoded.slice(base.length));
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function fileStats(size: number, mtime: number): Stats {
  return { type: 'file', size, permissions: FILE_MODE, uid: 0, gid: 0, atime: mtime, mtime, nlink: 1 };
}

function statsOf(entry: PropfindEntry): Stats {
  if (entry.isCollection) {
    return { type: 'directory', size: 0, permissions: DIRECTORY_MODE, uid: 0, gid: 0, atime: entry.mtime, mtime: entry.mtime, nlink: 2 };
  }
  return fileStats(entry.size, entry.mtime);
}
