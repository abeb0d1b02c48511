import { after } from 'node:test';
import { PassThrough } from 'node:stream';
import type { FS } from '../../src/fs/FS.js';
import { PacketFramer } from '../../src/sftp/protocol/codec.js';
import { PacketType } from '../../src/sftp/protocol/constants.js';
import { encodeRequest, type Request } from '../../src/sftp/protocol/messages.js';
import { Session, type SessionOptions } from '../../src/sftp/Session.js';
import { SFTPServerInterface } from '../../src/sftp/SFTPServerInterface.js';
import { decodeReply, type Reply } from './sftpReplies.js';

/** Requests without their id: the pipe numbers them. */
type Unnumbered<R> = R extends Request ? Omit<R, 'id'> : never;
export type RequestWithoutId = Unnumbered<Request>;

/**
 * A real Session over a pair of in-memory streams, with a raw client on the
 * other end: no SSH, so tests can send any bytes (malformed ones included)
 * and see exactly what the session answers.
 */
export class SessionPipe {
  /** Client to server: what the session reads. */
  readonly toServer = new PassThrough();
  /** Server to client: what the session writes. */
  readonly toClient = new PassThrough();
  readonly session: Session;
  /** How often the session asked the transport to close. */
  closeCalls = 0;
  /** Settles when the session has ended and released its handles (its 'close' event). */
  readonly ended: Promise<string>;
  private readonly framer = new PacketFramer(64 * 1024 * 1024);
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private readonly unclaimed: Reply[] = [];
  private versionWaiter?: (reply: Reply) => void;
  private nextId = 1;

  constructor(fsOrInterface: FS | SFTPServerInterface, options: SessionOptions = {}) {
    const si = fsOrInterface instanceof SFTPServerInterface ? fsOrInterface : new SFTPServerInterface(fsOrInterface);
    this.session = new Session({ readable: this.toServer, writable: this.toClient, close: () => this.closeCalls++ }, si, options);
    this.ended = new Promise((resolve) => this.session.once('close', resolve));
    this.toClient.on('data', (chunk: Buffer) => {
      for (const body of this.framer.push(chunk)) this.deliver(decodeReply(body));
      if (this.framer.error) throw this.framer.error; // the server sent a bad length: fail the test loudly
    });
  }

  private deliver(reply: Reply): void {
    if (reply.type === 'version') {
      if (this.versionWaiter) this.versionWaiter(reply);
      else this.unclaimed.push(reply);
      this.versionWaiter = undefined;
      return;
    }
    const waiter = this.waiting.get(reply.id);
    if (waiter) {
      this.waiting.delete(reply.id);
      waiter(reply);
    } else this.unclaimed.push(reply);
  }

  /** Writes raw bytes to the session. */
  sendRaw(bytes: Buffer): void {
    this.toServer.write(bytes);
  }

  /** Sends INIT and resolves with the VERSION reply. */
  init(version = 3): Promise<Extract<Reply, { type: 'version' }>> {
    const reply = new Promise<Reply>((resolve) => (this.versionWaiter = resolve));
    this.sendRaw(encodeRequest({ type: PacketType.INIT, version }));
    return reply as Promise<Extract<Reply, { type: 'version' }>>;
  }

  /** A fresh request id. */
  id(): number {
    return this.nextId++;
  }

  /** Resolves with the reply carrying `id` (however late it comes). */
  replyTo(id: number): Promise<Reply> {
    const early = this.unclaimed.findIndex((reply) => reply.type !== 'version' && reply.id === id);
    if (early >= 0) return Promise.resolve(this.unclaimed.splice(early, 1)[0]!);
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }

  /** Sends one request (numbered here unless it has an id) and resolves with its reply. */
  request(request: RequestWithoutId & { id?: number }): Promise<Reply> {
    const id = request.id ?? this.id();
    const reply = this.replyTo(id);
    this.sendRaw(encodeRequest({ ...request, id } as Request));
    return reply;
  }

  /** Replies nobody waited for, in arrival order. */
  get unclaimedReplies(): readonly Reply[] {
    return this.unclaimed;
  }

  /** Ends the client side, as a client closing its channel does. */
  end(): void {
    this.toServer.end();
  }
}

/**
 * The pipes of one test file: `create` makes one, `start` makes one and
 * INITializes it; every pipe either made is ended in that file's `after`, so
 * no session outlives the tests.
 */
export function sessionPipes() {
  const pipes: SessionPipe[] = [];
  after(() => pipes.forEach((pipe) => pipe.end()));
  const create = (...args: ConstructorParameters<typeof SessionPipe>): SessionPipe => {
    const pipe = new SessionPipe(...args);
    pipes.push(pipe);
    return pipe;
  };
  const start = async (...args: ConstructorParameters<typeof SessionPipe>): Promise<SessionPipe> => {
    const pipe = create(...args);
    await pipe.init();
    return pipe;
  };
  return { create, start };
}
