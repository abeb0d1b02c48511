import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { silentLogger, type Logger } from '../logger.js';
import { newSessionRef, type SessionRef } from '../observability/events.js';
import { channelFor, publishHandleClose, publishRequest } from '../observability/requestEvents.js';
import { DirectoryReadAhead } from './DirectoryReadAhead.js';
import { builtinExtensions, type Extension, type ExtensionContext } from './extensions.js';
import { HandleQueue } from './HandleQueue.js';
import { freshUsage, HandleTable, type HandleEntry } from './HandleTable.js';
import { ReplyBatcher } from './ReplyBatcher.js';
import { readDataReply, type PooledReply } from './dataReplies.js';
import { defaultSessionLimits, type SessionLimits } from './limits.js';
import { MalformedPacket, PacketFramer, PacketReader } from './protocol/codec.js';
import { PacketType, SFTP_VERSION, StatusCode } from './protocol/constants.js';
import * as msg from './protocol/messages.js';
import type { SFTPServerInterface } from './SFTPServerInterface.js';
import type { SymlinkOrder } from './symlinkOrder.js';
import { SFTPStatusError, translateErrors } from './translateErrors.js';

/** Where a session's bytes come from and go to: an SSH channel, or stdin/stdout. */
export interface SessionTransport {
  readable: Readable;
  writable: Writable;
  /** Ends the transport; an SSH channel also sends `exitStatus`: 0 when the client closed its side, 1 when it broke the protocol, none when the server ends the session. */
  close(exitStatus?: number): void;
  /** The byte stream carrying `writable` (the SSH connection's socket), corked while a batch of replies is written. */
  socket?: Writable;
  /**
   * True when `writable` is done with a chunk's bytes once it calls that
   * write's callback: ssh2 channels copy them into SSH packets, sockets and
   * pipes have written them. The session then reuses its DATA reply buffers.
   * Leave it unset for a stream that hands the same Buffer on to a reader
   * (a PassThrough): the reader would see the next reply's bytes.
   */
  copiesOnWrite?: boolean;
}

export interface SessionOptions {
  limits?: Partial<SessionLimits>;
  logger?: Logger;
  /** Extensions on offer, before filtering by what the FS can do. Default: all built in. */
  extensions?: Extension[];
  /** Who the session serves, as the events on `sftp-expose:*` channels name it (see src/observability/events.ts). */
  peer?: Omit<SessionRef, 'id'>;
  /** The order the client sends SYMLINK's paths in (see symlinkOrder.ts). Default: target first, as OpenSSH. */
  symlinkOrder?: SymlinkOrder;
}

/** A reply packet, or one in a reused buffer to hand back once it is written (see dataReplies.ts). */
type Reply = Buffer | PooledReply;
type Handler<T extends msg.RequestType> = (request: msg.RequestOf<T>) => Promise<Reply>;

/**
 * One SFTP conversation. Requests are worked on concurrently (clients keep
 * dozens in flight), replies go out as they complete with the request's id.
 * Requests on one handle keep their order (see HandleQueue). The session
 * bounds what it holds: open handles, requests in flight, packet size; past
 * the in-flight bound it stops reading, and SSH flow control slows the client.
 */
export class Session extends EventEmitter {
  readonly limits: SessionLimits;
  /** This session in the events it publishes. */
  readonly ref: SessionRef;
  private readonly logger: Logger;
  private readonly framer: PacketFramer;
  private readonly replies: ReplyBatcher;
  private readonly handles: HandleTable;
  private readonly extensions: Map<string, Extension>;
  private readonly extensionContext: ExtensionContext;
  /** SYMLINK's first path is the link (see symlinkOrder.ts); the decoded fields are named in OpenSSH's order. */
  private readonly linkFirst: boolean;
  private initialized = false;
  private closed = false;
  private inFlight = 0;
  private readBytesInFlight = 0;
  private backlog: Buffer[] = [];
  private outputBlocked = false;
  /** The client sent EOF: finish what it asked for, then end the session. */
  private inputEnded = false;
  /** The server is shutting down: no new handles; the session ends once it has none. */
  private draining = false;
  /** READDIR batches, read in their handle's order. */
  private readonly readAhead = new DirectoryReadAhead(
    (entry) => entry.queue.exclusive(() => this.si.readdir(entry.dir, { maxEntries: this.limits.readdirMaxEntries, maxBytes: this.limits.maxPacketLength - 1024 })),
    (handle, entry) => !this.closed && this.handles.find(handle) === entry,
  );

  constructor(private readonly transport: SessionTransport, readonly si: SFTPServerInterface, options: SessionOptions = {}) {
    super();
    this.limits = { ...defaultSessionLimits, ...options.limits };
    this.handles = new HandleTable(this.limits.maxOpenHandles);
    this.ref = newSessionRef(options.peer);
    this.logger = options.logger ?? silentLogger;
    this.linkFirst = options.symlinkOrder === 'link-first';
    this.framer = new PacketFramer(this.limits.maxPacketLength);
    this.replies = new ReplyBatcher(transport.writable, () => (this.outputBlocked = true), {
      socket: transport.socket,
      reuseAfterWrite: transport.copiesOnWrite === true,
    });
    const readOnly = si.fs.isReadOnly;
    const offered = (options.extensions ?? builtinExtensions).filter((ext) => ext.isAvailable(si.fs) && !(readOnly && ext.writes));
    this.extensions = new Map(offered.map((ext) => [ext.name, ext]));
    this.extensionContext = {
      si,
      limits: this.limits,
      withFile: (handle, mode, operation) => {
        const entry = this.handles.file(handle);
        return entry.queue[mode](() => operation(entry.open));
      },
    };

    transport.readable.on('data', (chunk: Buffer) => this.receive(chunk));
    transport.readable.on('end', () => {
      this.inputEnded = true;
      this.pump();
    });
    transport.readable.on('close', () => this.shutdown('channel closed'));
    transport.readable.on('error', (error: Error) => this.shutdown(`channel error: ${error.message}`));
    transport.writable.on('error', (error: Error) => this.shutdown(`channel error: ${error.message}`));
    transport.writable.on('drain', () => {
      this.outputBlocked = false;
      this.pump();
    });
  }

  /** Number of open file and directory handles. */
  get openHandles(): number {
    return this.handles.size;
  }

  /** A bad packet length ends the session, once the requests before it are answered (as OpenSSH's sftp-server does). */
  private receive(chunk: Buffer): void {
    if (this.closed || this.framer.error) return;
    for (const packet of this.framer.push(chunk)) this.backlog.push(packet);
    const broken = this.framer.error as MalformedPacket | undefined; // set by this push, if at all
    if (broken) this.logger.warn('malformed packet stream, ending the session', { error: broken.message });
    this.pump();
  }

  /** Starts backlogged requests while the in-flight bounds and the output allow. */
  private pump(): void {
    while (!this.closed && this.backlog.length > 0 && this.inFlight < this.limits.maxInFlight && !this.outputBlocked) {
      const readBytes = Math.min(msg.peekReadLength(this.backlog[0]!), this.limits.maxReadLength);
      if (readBytes > 0 && this.readBytesInFlight > 0 && this.readBytesInFlight + readBytes > this.limits.maxReadBytesInFlight) break;
      this.readBytesInFlight += readBytes;
      this.dispatch(this.backlog.shift()!, readBytes);
    }
    if (this.closed) return;
    if (this.framer.error && this.backlog.length === 0 && this.inFlight === 0) {
      this.shutdown('malformed packet stream', { exitStatus: 1 });
      return;
    }
    if (this.inputEnded && this.backlog.length === 0 && this.inFlight === 0) {
      this.shutdown('client closed the channel', { exitStatus: 0 });
      return;
    }
    if (this.draining && this.inFlight === 0 && this.handles.busy === 0) {
      this.shutdown('server shutting down', {});
      return;
    }
    const busy = this.backlog.length > 0;
    if (busy && !this.transport.readable.isPaused()) this.transport.readable.pause();
    else if (!busy && this.transport.readable.isPaused()) this.transport.readable.resume();
  }

  /** `readBytes`: what pump counted in readBytesInFlight for it, given back when the reply is out. */
  private dispatch(body: Buffer, readBytes: number): void {
    let request: msg.Request | msg.InitRequest;
    try {
      request = msg.decodeRequest(body);
    } catch (error) {
      this.readBytesInFlight -= readBytes;
      this.answerUndecodable(body, error as MalformedPacket);
      return;
    }
    if (request.type === PacketType.INIT) {
      this.init(request.version);
      return;
    }
    if (!this.initialized) {
      this.logger.warn('request before INIT, ending the session', { type: request.type });
      this.shutdown('request before INIT', { exitStatus: 1 });
      return;
    }
    this.inFlight++;
    const handler = this.handlers[request.type] as Handler<typeof request.type>;
    // The one instrumentation point: with no subscriber, a request pays for this check only.
    const startedAt = channelFor(request.type).hasSubscribers ? performance.now() : -1;
    const finish = (reply: Reply) => {
      this.inFlight--;
      this.readBytesInFlight -= readBytes;
      const packet = Buffer.isBuffer(reply) ? reply : reply.packet;
      if (startedAt >= 0) publishRequest(this.ref, request, packet, startedAt, this.handlePath, this.offersExtension);
      // Nothing else is being worked on or waiting, so the client is likely waiting for this reply
      // (as `get -r` of small files does, request by request): written now rather than after the
      // event loop's next poll. Not a WRITE's: uploads stream writes, the next ones are often
      // already in the socket, and their replies written together wake the client once rather than
      // per read (flushed alone, a 256 MiB put made 3,642-3,671 socket writes against 1,368-1,919).
      const awaited = this.inFlight === 0 && this.backlog.length === 0 && request.type !== PacketType.WRITE;
      this.send(packet, Buffer.isBuffer(reply) ? undefined : reply.release, awaited);
      this.pump();
    };
    let answer: Promise<Reply>;
    try {
      answer = handler(request as never);
    } catch (error) {
      answer = Promise.reject(error); // from a handler that is not async (READ, for HandleQueue.inOrder)
    }
    // One then() with both callbacks, not catch().then(): a promise and a microtask fewer per request
    // (1.3 % of the instructions of a `get -r` of small files: docs/performance.md, tenth session).
    answer.then(finish, (error: unknown) => {
      const status = translateErrors(error, this.logger);
      finish(msg.encodeStatus(request.id, status.code, status.message));
    });
  }

  /** Unknown types get OP_UNSUPPORTED (as OpenSSH answers), truncated ones BAD_MESSAGE. */
  private answerUndecodable(body: Buffer, error: MalformedPacket): void {
    const id = msg.peekRequestId(body);
    const type = body[0];
    if (type === PacketType.INIT || id === undefined || !this.initialized) {
      this.logger.warn('undecodable packet, ending the session', { type, error: error.message });
      this.shutdown('undecodable packet', { exitStatus: 1 });
      return;
    }
    const code = msg.isRequestType(type!) ? StatusCode.BAD_MESSAGE : StatusCode.OP_UNSUPPORTED;
    this.logger.debug('undecodable request', { type, id, error: error.message });
    this.send(msg.encodeStatus(id, code, code === StatusCode.BAD_MESSAGE ? `Bad message: ${error.message}` : `Unsupported request type ${type}`));
  }

  private init(clientVersion: number): void {
    if (this.initialized) {
      this.logger.warn('INIT received twice, ending the session');
      this.shutdown('INIT received twice', { exitStatus: 1 });
      return;
    }
    this.initialized = true;
    this.logger.debug('sftp session started', { clientVersion });
    const advertised = [...this.extensions.values()].map((ext) => [ext.name, ext.version] as const);
    this.send(msg.encodeVersion(Math.min(clientVersion, SFTP_VERSION), advertised));
  }

  private readonly handlePath = (handle: Buffer): string | undefined => {
    const entry = this.handles.find(handle);
    return entry && (entry.kind === 'file' ? entry.open.path : entry.dir.path);
  };

  private readonly offersExtension = (name: string): boolean => this.extensions.has(name);

  /**
   * Lets the requests in progress and the open handles finish, refusing new
   * handles, then ends the session (a graceful server shutdown). A session
   * with nothing open ends at once.
   */
  drain(): void {
    if (this.closed || this.draining) return;
    this.draining = true;
    this.pump();
  }

  /** `now`: write the batch at once (see ReplyBatcher.push). */
  private send(packet: Buffer, release?: () => void, now = false): void {
    if (this.closed) {
      release?.();
      return;
    }
    this.replies.push(packet, release, now);
  }

  /**
   * Opens within the handle limit (see HandleTable.open). What opens after
   * the session has ended is released at once (nothing would ever release it).
   */
  private async addHandleWithinLimit(open: () => Promise<HandleEntry>): Promise<Buffer> {
    if (this.draining) throw new SFTPStatusError(StatusCode.FAILURE, 'Server is shutting down');
    const opened = await this.handles.open(open, () => !this.closed);
    if ('handle' in opened) return opened.handle;
    const entry = opened.unwanted;
    await (entry.kind === 'file' ? entry.open.file.close() : this.si.closedir(entry.dir));
    throw new SFTPStatusError(StatusCode.CONNECTION_LOST, 'Session closed');
  }

  /** One handler per request type: the dispatch table. */
  private readonly handlers: { [T in msg.RequestType]: Handler<T> } = {
    [PacketType.OPEN]: async ({ id, path, pflags, attrs }) => {
      const openedAt = performance.now();
      const handle = await this.addHandleWithinLimit(async () => ({ kind: 'file', open: await this.si.open(path, pflags, attrs), queue: new HandleQueue(), ...freshUsage(openedAt) }));
      return msg.encodeHandle(id, handle);
    },
    [PacketType.CLOSE]: async ({ id, handle }) => {
      const entry = this.handles.remove(handle);
      if (entry.kind === 'directory') this.readAhead.forget(entry);
      try {
        await entry.queue.exclusive(() => (entry.kind === 'file' ? this.si.close(entry.open) : this.si.closedir(entry.dir)));
      } catch (error) {
        publishHandleClose(this.ref, entry, translateErrors(error).code, false);
        throw error;
      }
      publishHandleClose(this.ref, entry, StatusCode.OK, false);
      return msg.encodeStatus(id, StatusCode.OK);
    },
    [PacketType.READ]: ({ id, handle, offset, length }) => {
      const entry = this.handles.file(handle);
      const read = (target: Buffer) => entry.queue.shared(() => this.si.readInto(entry.open, offset, target));
      const answer = readDataReply(id, Math.min(length, this.limits.maxReadLength), read).then(({ reply, bytes }) => {
        entry.bytesRead += bytes;
        return reply;
      });
      return entry.queue.inOrder(answer); // OpenSSH's scp truncates a download where a reply overtook an earlier one
    },
    [PacketType.WRITE]: async ({ id, handle, offset, data }) => {
      const entry = this.handles.file(handle);
      if (data.length > this.limits.maxWriteLength) {
        throw new SFTPStatusError(StatusCode.FAILURE, `Write of ${data.length} bytes exceeds the limit of ${this.limits.maxWriteLength}`);
      }
      await entry.queue.exclusive(() => this.si.write(entry.open, offset, data));
      entry.bytesWritten += data.length;
      return msg.encodeStatus(id, StatusCode.OK);
    },
    [PacketType.FSTAT]: async ({ id, handle }) => {
      const entry = this.handles.file(handle);
      return msg.encodeAttrs(id, await entry.queue.shared(() => this.si.fstat(entry.open)));
    },
    [PacketType.FSETSTAT]: async ({ id, handle, attrs }) => {
      const entry = this.handles.file(handle);
      await entry.queue.exclusive(() => this.si.fsetstat(entry.open, attrs));
      return msg.encodeStatus(id, StatusCode.OK);
    },
    [PacketType.OPENDIR]: async ({ id, path }) => {
      const openedAt = performance.now();
      const handle = await this.addHandleWithinLimit(async () => ({ kind: 'directory', dir: await this.si.opendir(path), queue: new HandleQueue(), ...freshUsage(openedAt) }));
      return msg.encodeHandle(id, handle);
    },
    [PacketType.READDIR]: async ({ id, handle }) => {
      const entry = this.handles.directory(handle);
      const batch = await this.readAhead.next(entry);
      entry.entries += batch.length;
      if (batch.length === 0) return msg.encodeStatus(id, StatusCode.EOF);
      this.readAhead.start(handle, entry);
      return msg.encodeName(id, batch);
    },
    [PacketType.LSTAT]: async ({ id, path }) => msg.encodeAttrs(id, await this.si.lstat(path)),
    [PacketType.STAT]: async ({ id, path }) => msg.encodeAttrs(id, await this.si.stat(path)),
    [PacketType.SETSTAT]: async ({ id, path, attrs }) => this.ok(id, this.si.setstat(path, attrs)),
    [PacketType.REMOVE]: async ({ id, path }) => this.ok(id, this.si.remove(path)),
    [PacketType.MKDIR]: async ({ id, path, attrs }) => this.ok(id, this.si.mkdir(path, attrs)),
    [PacketType.RMDIR]: async ({ id, path }) => this.ok(id, this.si.rmdir(path)),
    [PacketType.RENAME]: async ({ id, oldPath, newPath }) => this.ok(id, this.si.rename(oldPath, newPath)),
    [PacketType.SYMLINK]: async ({ id, targetPath, linkPath }) => this.ok(id, this.linkFirst ? this.si.symlink(linkPath, targetPath) : this.si.symlink(targetPath, linkPath)),
    [PacketType.REALPATH]: async ({ id, path }) => this.singleName(id, await this.si.realpath(path)),
    [PacketType.READLINK]: async ({ id, path }) => this.singleName(id, await this.si.readlink(path)),
    [PacketType.EXTENDED]: async ({ id, name, payload }) => {
      const extension = this.extensions.get(name);
      if (!extension) throw new SFTPStatusError(StatusCode.OP_UNSUPPORTED, `Unsupported extension ${name}`);
      return extension.handle(this.extensionContext, id, new PacketReader(payload));
    },
  };

  private async ok(id: number, operation: Promise<void>): Promise<Buffer> {
    await operation;
    return msg.encodeStatus(id, StatusCode.OK);
  }

  /** REALPATH and READLINK answer one name whose longname is the name itself (as OpenSSH does). */
  private singleName(id: number, name: string): Buffer {
    return msg.encodeName(id, [{ filename: name, longname: name, attrs: {} }]);
  }

  /**
   * Ends the session once: stops reading, ends the transport if asked (see
   * SessionTransport.close), and releases every handle after the requests
   * queued on it. A file being written is aborted where the backend can
   * abort (no half object published), otherwise closed.
   */
  shutdown(reason: string, closeTransport?: { exitStatus?: number }): void {
    if (this.closed) return;
    this.closed = true;
    this.backlog = [];
    this.logger.debug('sftp session ending', { reason, openHandles: this.handles.size });
    if (closeTransport) {
      this.replies.flush();
      this.transport.close(closeTransport.exitStatus);
    }
    const entries = this.handles.takeAll();
    const released = entries.map((entry) =>
      entry.queue.idle().then(async () => {
        if (entry.kind === 'directory') {
          publishHandleClose(this.ref, entry, StatusCode.CONNECTION_LOST, false);
          return this.si.closedir(entry.dir);
        }
        const { file, flags } = entry.open;
        const abort = flags.write && file.abort !== undefined;
        publishHandleClose(this.ref, entry, StatusCode.CONNECTION_LOST, abort);
        return abort ? file.abort!() : file.close();
      }).catch((error: unknown) => this.logger.warn('error releasing a handle at session end', { error })),
    );
    void Promise.all(released).then(() => this.emit('close', reason));
  }
}
