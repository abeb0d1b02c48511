import { PacketReader } from '../sftp/protocol/codec.js';
import { PacketType, StatusCode } from '../sftp/protocol/constants.js';
import type * as msg from '../sftp/protocol/messages.js';
import type { HandleEntry } from '../sftp/HandleTable.js';
import { dataRequestChannel, handleCloseChannel, requestChannel, type HandleCloseEvent, type RequestEvent, type SessionRef } from './events.js';

/** Request names for events and metric labels (`open`, `read`...), by packet type. */
const requestNames: Record<number, string> = Object.fromEntries(
  Object.entries(PacketType).map(([name, type]) => [type, name.toLowerCase()]),
);

/** Extensions whose payload starts with two paths (old, new). */
const twoPathExtensions = new Set(['posix-rename@openssh.com', 'hardlink@openssh.com']);

/** Where a request's record goes: READ and WRITE on their own channel, so a subscriber to the rest pays nothing per block. */
export function channelFor(type: number): typeof requestChannel {
  return type === PacketType.READ || type === PacketType.WRITE ? dataRequestChannel : requestChannel;
}

/**
 * Publishes the `sftp-expose:request` (or `:request:data`) record of one answered request. Called
 * by the Session only when the channel has subscribers, so the decoding here
 * (status from the reply, paths from extension payloads) costs nothing otherwise.
 *
 * @param handlePath the path a handle was opened with (undefined for an unknown handle)
 * @param offers whether the session offers an extension (unknown names are labelled `extended`, so clients cannot mint label values)
 */
export function publishRequest(
  session: SessionRef,
  request: msg.Request,
  reply: Buffer,
  startedAt: number,
  handlePath: (handle: Buffer) => string | undefined,
  offers: (extension: string) => boolean,
): void {
  const event: RequestEvent = {
    session,
    op: requestNames[request.type]!,
    bytes: 0,
    durationMs: performance.now() - startedAt,
    status: replyStatus(reply),
  };
  switch (request.type) {
    case PacketType.READ:
      // A DATA reply: uint32 length, type, uint32 id, uint32 data length.
      if (reply[4] === PacketType.DATA) event.bytes = reply.readUInt32BE(9);
      event.path = handlePath(request.handle);
      break;
    case PacketType.WRITE:
      if (event.status === StatusCode.OK) event.bytes = request.data.length;
      event.path = handlePath(request.handle);
      break;
    case PacketType.CLOSE:
    case PacketType.FSTAT:
    case PacketType.FSETSTAT:
    case PacketType.READDIR:
      event.path = handlePath(request.handle);
      break;
    case PacketType.RENAME:
      event.path = request.oldPath;
      event.targetPath = request.newPath;
      break;
    case PacketType.SYMLINK:
      event.path = request.linkPath;
      event.targetPath = request.targetPath;
      break;
    case PacketType.EXTENDED:
      describeExtended(event, request, handlePath, offers);
      break;
    default:
      event.path = request.path;
  }
  channelFor(request.type).publish(event);
}

/** A STATUS reply's code; any other reply (HANDLE, DATA, NAME, ATTRS, EXTENDED_REPLY) means OK. */
function replyStatus(packet: Buffer): number {
  // Body after the uint32 length: type byte, uint32 id, uint32 status code.
  return packet[4] === PacketType.STATUS && packet.length >= 13 ? packet.readUInt32BE(9) : StatusCode.OK;
}

/** Most extensions name a path or a handle first; the payload is read only as far as that. */
function describeExtended(event: RequestEvent, request: msg.RequestOf<typeof PacketType.EXTENDED>, handlePath: (handle: Buffer) => string | undefined, offers: (extension: string) => boolean): void {
  if (!offers(request.name)) {
    event.op = 'extended';
    return;
  }
  event.op = request.name;
  try {
    const reader = new PacketReader(request.payload);
    const first = reader.bytes();
    event.path = handlePath(first) ?? first.toString('utf8');
    if (twoPathExtensions.has(request.name)) event.targetPath = reader.string();
  } catch {
    // An extension without arguments (limits@openssh.com) or a malformed payload: no path.
  }
}

/** Publishes the `sftp-expose:handle:close` event of a handle the session is done with, if anyone listens. */
export function publishHandleClose(session: SessionRef, entry: HandleEntry, status: number, aborted: boolean): void {
  if (!handleCloseChannel.hasSubscribers) return;
  const event: HandleCloseEvent = {
    session,
    kind: entry.kind,
    path: entry.kind === 'file' ? entry.open.path : entry.dir.path,
    read: entry.kind === 'file' && entry.open.flags.read,
    write: entry.kind === 'file' && entry.open.flags.write,
    bytesRead: entry.bytesRead,
    bytesWritten: entry.bytesWritten,
    entries: entry.entries,
    durationMs: performance.now() - entry.openedAt,
    status,
    aborted,
  };
  handleCloseChannel.publish(event);
}
