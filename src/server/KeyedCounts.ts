/** What one process has open, in total and per key. */
interface Tally {
  total: number;
  byKey: Map<string, number>;
}

const newTally = (): Tally => ({ total: 0, byKey: new Map() });

/**
 * Counts of things open, per key (connections per client address, sessions
 * per user): this process's own, plus those its peers report, so that a
 * limit can hold across the workers of `serve --workers` (see
 * src/cluster/sharedCounts.ts). Listeners hear of this process's own changes
 * only, to pass them on.
 */
export class KeyedCounts {
  private readonly own = newTally();
  private readonly peers = new Map<number, Tally>();
  private readonly listeners: Array<(key: string, added: boolean) => void> = [];

  /** Open now, here and at the peers: of `key`, or of every key. */
  count(key?: string): number {
    let count = 0;
    for (const tally of [this.own, ...this.peers.values()]) count += key === undefined ? tally.total : (tally.byKey.get(key) ?? 0);
    return count;
  }

  /** One more of `key` here. */
  add(key: string): void {
    increment(this.own, key);
    for (const listener of this.listeners) listener(key, true);
  }

  /** One fewer of `key` here; false (and nothing changes) when there was none. */
  remove(key: string): boolean {
    if (!decrement(this.own, key)) return false;
    for (const listener of this.listeners) listener(key, false);
    return true;
  }

  /** Calls `listener` after each of this process's own changes. */
  onChange(listener: (key: string, added: boolean) => void): void {
    this.listeners.push(listener);
  }

  peerAdded(peer: number, key: string): void {
    let tally = this.peers.get(peer);
    if (!tally) this.peers.set(peer, (tally = newTally()));
    increment(tally, key);
  }

  peerRemoved(peer: number, key: string): void {
    const tally = this.peers.get(peer);
    if (tally) decrement(tally, key);
  }

  /** This process's own counts, per key, for a peer that starts after them. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.own.byKey);
  }

  /** A peer's counts as a whole (its snapshot): they replace what was known of it. */
  peerSnapshot(peer: number, byKey: Record<string, number>): void {
    const tally = newTally();
    for (const [key, count] of Object.entries(byKey)) {
      if (!Number.isInteger(count) || count <= 0) continue;
      tally.byKey.set(key, count);
      tally.total += count;
    }
    this.peers.set(peer, tally);
  }

  /** A peer is gone (its process exited): what it had open went with it. */
  forgetPeer(peer: number): void {
    this.peers.delete(peer);
  }
}

function increment(tally: Tally, key: string): void {
  tally.total++;
  tally.byKey.set(key, (tally.byKey.get(key) ?? 0) + 1);
}

function decrement(tally: Tally, key: string): boolean {
  const count = tally.byKey.get(key) ?? 0;
  if (count <= 0) return false;
  if (count === 1) tally.byKey.delete(key);
  else tally.byKey.set(key, count - 1);
  tally.total--;
  return true;
}
