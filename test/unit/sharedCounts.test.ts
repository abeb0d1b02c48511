/**
 * KeyedCounts (src/server/KeyedCounts.ts), ConnectionLimits over it with
 * peers' counts, and shareCounts (src/cluster/sharedCounts.ts), which keeps
 * two workers' counts in step through their peer messages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkerPeers } from '../../src/cluster/serveWithWorkers.js';
import { shareCounts, type CountSharing } from '../../src/cluster/sharedCounts.js';
import { ConnectionLimits } from '../../src/server/defence/ConnectionLimits.js';
import { KeyedCounts } from '../../src/server/KeyedCounts.js';

describe('KeyedCounts', () => {
  it('adds its peers\' counts to its own, per key and in total, and forgets a peer that exits', () => {
    const counts = new KeyedCounts();
    counts.add('a');
    counts.peerAdded(101, 'a');
    counts.peerAdded(102, 'b');
    assert.equal(counts.count('a'), 2);
    assert.equal(counts.count(), 3);
    counts.peerRemoved(102, 'b');
    counts.peerRemoved(102, 'b'); // a repeat takes nothing more
    assert.equal(counts.count(), 2);
    counts.forgetPeer(101);
    assert.equal(counts.count('a'), 1);
  });

  it('tells its listeners of its own changes only, not of a remove with nothing to remove nor of peers', () => {
    const counts = new KeyedCounts();
    const changes: string[] = [];
    counts.onChange((key, added) => changes.push(`${added ? '+' : '-'}${key}`));
    counts.add('a');
    counts.peerAdded(7, 'b');
    assert.equal(counts.remove('a'), true);
    assert.equal(counts.remove('a'), false);
    assert.deepEqual(changes, ['+a', '-a']);
  });
});

describe('ConnectionLimits with peers', () => {
  it('counts a peer\'s connections toward both limits, by normalized address', () => {
    const limits = new ConnectionLimits({ maxConnections: 3, maxConnectionsPerIP: 1 });
    limits.connections.peerAdded(101, '10.0.0.1');
    assert.match(limits.open('::ffff:10.0.0.1') ?? '', /too many connections from 10\.0\.0\.1 \(max 1\)/);
    assert.equal(limits.open('10.0.0.2'), undefined);
    limits.connections.peerAdded(102, '10.0.0.3');
    assert.match(limits.open('10.0.0.4') ?? '', /too many connections \(max 3\)/);
    limits.connections.forgetPeer(101);
    assert.equal(limits.open('10.0.0.1'), undefined);
  });
});

describe('shareCounts', () => {
  /** Two workers' counts joined by peer messages delivered at once (the primary's relay, without processes). */
  function twoWorkers() {
    const limits = [new ConnectionLimits({ maxConnectionsPerIP: 1 }), new ConnectionLimits({ maxConnectionsPerIP: 1 })];
    const sessions = [new KeyedCounts(), new KeyedCounts()];
    const sharing: CountSharing[][] = [[], []];
    for (const i of [0, 1]) {
      const peers: WorkerPeers = { id: 100 + i, send: (message) => sharing[1 - i]!.forEach((share) => share.onPeerMessage(message)) };
      sharing[i] = [shareCounts('connections', limits[i]!.connections, peers), shareCounts('sessions', sessions[i]!, peers)];
    }
    return { limits, sessions, sharing };
  }

  it('makes a limit hold across workers, and frees the slots of a worker that exits', () => {
    const { limits: [a, b], sharing } = twoWorkers();
    assert.equal(a!.open('10.0.0.1'), undefined);
    assert.match(b!.open('10.0.0.1') ?? '', /too many connections from 10\.0\.0\.1/);
    a!.close('10.0.0.1');
    assert.equal(b!.open('10.0.0.1'), undefined);
    assert.match(a!.open('10.0.0.1') ?? '', /too many connections/);
    for (const share of sharing[0]!) share.onPeerExit(101); // worker b is gone
    assert.equal(a!.open('10.0.0.1'), undefined);
  });

  it('gives a worker that starts later the counts the others have', async () => {
    const peersOf: Record<number, CountSharing> = {};
    /** A worker on a relay that delivers each message, as IPC does, after the sender's turn, to every other worker started by then. */
    const start = (id: number) => {
      const counts = new KeyedCounts();
      const relay = (message: unknown) => Object.entries(peersOf).forEach(([other, share]) => Number(other) !== id && share.onPeerMessage(message));
      const peers: WorkerPeers = { id, send: (message) => setImmediate(relay, message) };
      peersOf[id] = shareCounts('connections', counts, peers);
      return counts;
    };
    const delivered = () => new Promise((resolve) => setTimeout(resolve, 10));
    const first = start(1);
    first.add('10.0.0.1');
    first.add('10.0.0.1');
    first.add('10.0.0.2');
    await delivered();
    const second = start(2);
    await delivered();
    assert.equal(second.count('10.0.0.1'), 2, 'the snapshot the first sent when the second asked');
    assert.equal(second.count(), 3);
    first.remove('10.0.0.1');
    await delivered();
    assert.equal(second.count('10.0.0.1'), 1, 'and the changes after it');
    assert.equal(first.count(), 2, 'the second had nothing to tell the first');
  });

  it('keeps each kind of count to itself', () => {
    const { limits: [a], sessions: [, theirSessions] } = twoWorkers();
    a!.open('amy');
    assert.equal(theirSessions!.count('amy'), 0, 'a connection is not a session');
  });
});
