import type { KeyedCounts } from '../server/KeyedCounts.js';
import type { WorkerPeers } from './serveWithWorkers.js';

interface CountMessage {
  count: { name: string; peer: number; key: string; added: boolean };
}

/** What a worker does with its peers' news about one kind of count. */
export interface CountSharing {
  onPeerMessage(message: unknown): void;
  onPeerExit(peer: number): void;
}

/**
 * One kind of count (`name`: connections per address, sessions per user)
 * across the workers of `serve --workers N`: each worker tells the others of
 * every change to its own counts and adds theirs to its own, so that a limit
 * holds for the whole server rather than per worker. The news travels through
 * the primary, so two workers admitting at the same instant can both take the
 * last slot. A worker that exits takes its counts with it; a worker started
 * later (a crashed one's replacement) counts the others' changes from then on.
 */
export function shareCounts(name: string, counts: KeyedCounts, peers: WorkerPeers): CountSharing {
  counts.onChange((key, added) => peers.send({ count: { name, peer: peers.id, key, added } } satisfies CountMessage));
  return {
    onPeerMessage(message) {
      const count = (message as Partial<CountMessage> | null)?.count;
      if (count?.name !== name || typeof count.peer !== 'number' || typeof count.key !== 'string') return;
      if (count.added) counts.peerAdded(count.peer, count.key);
      else counts.peerRemoved(count.peer, count.key);
    },
    onPeerExit: (peer) => counts.forgetPeer(peer),
  };
}
