import type { KeyedCounts } from '../server/KeyedCounts.js';
import type { WorkerPeers } from './serveWithWorkers.js';

interface CountMessage {
  count: { name: string; peer: number; key: string; added: boolean };
}

/** A worker's counts as a whole: sent when a peer asks, as a worker that has just started does. */
interface SnapshotMessage {
  countSnapshot: { name: string; peer: number; byKey: Record<string, number> };
}

interface SnapshotRequest {
  countsWanted: string;
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
 * last slot. A worker that exits takes its counts with it. A worker that
 * starts (a crashed one's replacement) asks the others for their counts, and
 * each answers with all of its own: a snapshot replaces what was known of its
 * sender, and a change sent before it arrives before it (the primary relays
 * each worker's messages in order).
 */
export function shareCounts(name: string, counts: KeyedCounts, peers: WorkerPeers): CountSharing {
  const sendSnapshot = () => peers.send({ countSnapshot: { name, peer: peers.id, byKey: counts.snapshot() } } satisfies SnapshotMessage);
  counts.onChange((key, added) => peers.send({ count: { name, peer: peers.id, key, added } } satisfies CountMessage));
  peers.send({ countsWanted: name } satisfies SnapshotRequest);
  return {
    onPeerMessage(message) {
      const { count, countSnapshot, countsWanted } = (message ?? {}) as Partial<CountMessage & SnapshotMessage & SnapshotRequest>;
      if (countsWanted === name) return sendSnapshot();
      if (countSnapshot?.name === name && typeof countSnapshot.peer === 'number') return counts.peerSnapshot(countSnapshot.peer, countSnapshot.byKey ?? {});
      if (count?.name !== name || typeof count.peer !== 'number' || typeof count.key !== 'string') return;
      if (count.added) counts.peerAdded(count.peer, count.key);
      else counts.peerRemoved(count.peer, count.key);
    },
    onPeerExit: (peer) => counts.forgetPeer(peer),
  };
}
