import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

/**
 * Corks an SSH connection's socket for the turn of each incoming chunk while
 * one of its channels has data queued. ssh2 writes each SSH packet with its
 * own socket.write, and a window adjust from the client releases up to a
 * window of queued channel data in ssh2's 'data' handler: corked for that
 * turn, the packets leave in one writev instead of one syscall each.
 * (Replies are corked in ReplyBatcher.) Uncorking on nextTick runs after
 * every 'data' listener, even a throwing one.
 *
 * With nothing queued, no window adjust can release anything, and the cork
 * and its tick cost some 2 % of a small-file download's instructions: the
 * turn is left alone.
 *
 * Returns `track`: the channels to watch, each until it closes.
 */
export function corkDataTurnsWhileQueued(socket: Socket): (channel: Writable) => void {
  const channels = new Set<Writable>();
  socket.prependListener('data', () => {
    if (!hasQueuedData(channels)) return;
    socket.cork();
    process.nextTick(() => socket.uncork());
  });
  return (channel) => {
    channels.add(channel);
    channel.once('close', () => channels.delete(channel));
  };
}

/** Whether a channel holds data not sent yet (ssh2 keeps a write's callback until the window lets it all out). */
function hasQueuedData(channels: Set<Writable>): boolean {
  for (const channel of channels) if (channel.writableLength > 0) return true;
  return false;
}
