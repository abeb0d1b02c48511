import type { ConnectionLimits } from '../server/defence/ConnectionLimits.js';
import type { WorkerPeers } from './serveWithWorkers.js';

interface ConnectionMessage {
  connection: { peer: number; address: string; opened: boolean };
}

/** What a worker does with its peers' news about their connections. */
export interface ConnectionCountSharing {
  onPeerMessage(message: unknown): void;
  onPeerExit(peer: number): void;
}

/**
 * `--max-connections` and `--max-connections-per-ip` across the workers of
 * `serve --workers N`: each worker tells the others of every connection it
 * admits and every one that closes, and counts theirs with its own, so a
 * limit holds for the whole server rather than per worker. The news travels
 * through the primary, so two connections accepted by two workers within the
 * same fraction of a millisecond can both pass a limit that had one slot
 * left. A worker that exits takes its count with it; a worker started later
 * (a crashed one's replacement) counts the others' connections from then on.
 * Without a limit nothing is sent.
 */
export function shareConnectionCounts(limits: ConnectionLimits, peers: WorkerPeers): ConnectionCountSharing {
  if (!limits.limited) return { onPeerMessage: () => {}, onPeerExit: () => {} };
  limits.onChange((address, opened) => peers.send({ connection: { peer: peers.id, address, opened } } satisfies ConnectionMessage));
  return {
    onPeerMessage(message) {
      const connection = (message as Partial<ConnectionMessage> | null)?.connection;
      if (!connection || typeof connection.peer !== 'number' || typeof connection.address !== 'string') return;
      if (connection.opened) limits.peerOpened(connection.peer, connection.address);
      else limits.peerClosed(connection.peer, connection.address);
    },
    onPeerExit: (peer) => limits.forgetPeer(peer),
  };
}
