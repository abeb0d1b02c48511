import { PassThrough } from 'node:stream';
import { PacketFramer } from '../../src/sftp/protocol/codec.js';
import { PacketType } from '../../src/sftp/protocol/constants.js';
import { encodeRequest, peekRequestId } from '../../src/sftp/protocol/messages.js';
import { Session } from '../../src/sftp/Session.js';
import { SFTPServerInterface } from '../../src/sftp/SFTPServerInterface.js';
import type { SessionLimits } from '../../src/sftp/limits.js';
import { Random } from '../engine/random.js';
import { conversations } from '../seeds.js';
import { CountingMemoryFS } from './countingFS.js';
import { checkReply } from './replyCheck.js';
import type { FuzzTarget } from './types.js';

/** Small limits, so that fuzzed inputs reach them. */
const LIMITS: SessionLimits = {
  maxPacketLength: 16 * 1024,
  maxReadLength: 4096,
  maxWriteLength: 4096,
  advertisedWriteLength: 4096,
  maxOpenHandles: 4,
  maxInFlight: 8,
  maxReadBytesInFlight: 8192,
  readdirMaxEntries: 2,
};
/** Bounds on waiting for the session; a MemoryFS session needs a few milliseconds. */
const SESSION_END_TIMEOUT_MS = 5_000;

const Control = { NO_INIT: 0x1, ABORTABLE_HANDLES: 0x2 } as const;

async function fixtureFS(withAbort: boolean): Promise<CountingMemoryFS> {
  const fs = new CountingMemoryFS(withAbort);
  await fs.writeFile('/file', Buffer.alloc(100, 'x'));
  await fs.mkdir('/dir');
  await fs.mkdir('/empty');
  await fs.writeFile('/dir/a', 'a');
  await fs.writeFile('/dir/b', 'b');
  await fs.writeFile('/dir/c', 'c');
  await fs.symlink('/file', '/link');
  return fs;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${SESSION_END_TIMEOUT_MS} ms waiting for ${what}`)), SESSION_END_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Request ids of the packets the session can read: those before the first bad length. */
function sentIds(stream: Buffer): number[] {
  const ids: number[] = [];
  for (let at = 0; at + 4 <= stream.length;) {
    const length = stream.readUInt32BE(at);
    if (length === 0 || length > LIMITS.maxPacketLength || at + 4 + length > stream.length) break;
    const body = stream.subarray(at + 4, at + 4 + length);
    const id = peekRequestId(body);
    if (body[0] !== PacketType.INIT && id !== undefined) ids.push(id);
    at += 4 + length;
  }
  return ids;
}

/**
 * Arbitrary bytes into a real Session over a MemoryFS. Control byte: bit 0
 * set = no INIT is sent first, bit 1 = file handles can abort, bits 2-4 =
 * how finely the stream is cut into chunks. After the stream the client side
 * ends, which the session answers by finishing its work and closing.
 *
 * Invariants: every reply is a well-formed packet of a reply type; VERSION
 * comes first and once; every other reply answers a request that was sent, at
 * most once, and all of them when the session ended normally or at a bad
 * packet length (those before it); the session
 * never holds more handles than its limit, nor the FS more than that plus the
 * CLOSEs in flight; once the session has closed,
 * every file handle the FS gave out was closed or aborted, exactly once.
 * Uncaught errors and unhandled rejections are caught by the fuzzer itself.
 */
export const sessionTarget: FuzzTarget = {
  name: 'session',
  description: 'Session dispatch on arbitrary bytes, with and without INIT, over a MemoryFS',
  shape: { prefix: 1, packets: 'stream', maxLength: 8192 },
  seeds: () => conversations().flatMap((stream) => [Buffer.concat([Buffer.from([0]), stream]), Buffer.concat([Buffer.from([Control.ABORTABLE_HANDLES | 0x1c]), stream])]),
  async run(input) {
    const control = input[0] ?? 0;
    const stream = Buffer.concat([control & Control.NO_INIT ? Buffer.alloc(0) : encodeRequest({ type: PacketType.INIT, version: 3 }), input.subarray(1)]);
    const fs = await fixtureFS((control & Control.ABORTABLE_HANDLES) !== 0);
    const problems: string[] = [];
    fs.onChange = () => {
      // A CLOSE frees its slot at once but closes the file after the requests queued on it,
      // so the FS may briefly hold those too; there are at most maxInFlight of them.
      const bound = LIMITS.maxOpenHandles + LIMITS.maxInFlight;
      if (fs.stillOpen > bound) problems.push(`the FS holds ${fs.stillOpen} file handles (handle limit ${LIMITS.maxOpenHandles} + ${LIMITS.maxInFlight} in flight)`);
      if (fs.stillOpen < 0) problems.push('a file handle was released twice');
    };

    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const session = new Session({ readable: toServer, writable: toClient, close: () => toServer.destroy() }, new SFTPServerInterface(fs), { limits: LIMITS });
    const ended = new Promise<string>((resolve) => session.once('close', resolve));

    const pending = new Map<number, number>();
    for (const id of sentIds(stream)) pending.set(id, (pending.get(id) ?? 0) + 1);
    const replyFramer = new PacketFramer(Number.MAX_SAFE_INTEGER);
    let versions = 0;
    let replies = 0;
    toClient.on('data', (chunk: Buffer) => {
      try {
        for (const body of replyFramer.push(chunk)) {
          const reply = checkReply(body, LIMITS.maxReadLength);
          if (session.openHandles > LIMITS.maxOpenHandles) problems.push(`${session.openHandles} handles open (limit ${LIMITS.maxOpenHandles})`);
          if (reply.type === PacketType.VERSION) {
            if (++versions > 1 || replies > 0) problems.push('VERSION sent twice or after another reply');
          } else {
            if (versions === 0) problems.push(`reply of type ${reply.type} before VERSION`);
            const left = pending.get(reply.id!) ?? 0;
            if (left === 0) problems.push(`reply to id ${reply.id}, which no request has (or already answered)`);
            else pending.set(reply.id!, left - 1);
          }
          replies++;
        }
        if (replyFramer.error) problems.push(`malformed reply stream: ${replyFramer.error.message}`);
      } catch (error) {
        problems.push(`malformed reply: ${(error as Error).message}`);
      }
    });

    const random = new Random(control);
    const pieces = 1 + ((control >> 2) & 0x7) * 3;
    const size = Math.max(1, Math.ceil(stream.length / pieces));
    for (let at = 0; at < stream.length;) {
      const take = size + random.below(4);
      toServer.write(stream.subarray(at, at + take));
      at += take;
    }
    toServer.end();

    const reason = await withTimeout(ended, 'the session to close');
    if (fs.stillOpen !== 0) {
      await withTimeout(new Promise<void>((resolve) => {
        const check = fs.onChange;
        fs.onChange = () => {
          check?.();
          if (fs.stillOpen <= 0) resolve();
        };
      }), `${fs.stillOpen} file handles to be released after the session closed`);
    }
    // A bad length ends the session too, but only after the requests before it are answered.
    if (reason === 'client closed the channel' || reason === 'malformed packet stream') {
      const unanswered = [...pending].filter(([, left]) => left > 0).map(([id]) => id);
      if (unanswered.length > 0) problems.push(`session ended (${reason}) without answering ids ${unanswered.slice(0, 10).join(', ')}`);
    }
    if (problems.length > 0) throw new Error(`${problems.length} broken invariants (session ended: ${reason}):\n  ${[...new Set(problems)].join('\n  ')}`);
  },
};
