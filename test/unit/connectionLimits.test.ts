/**
 * ConnectionLimits (src/server/defence/ConnectionLimits.ts) with peers' counts,
 * and shareConnectionCounts (src/cluster/sharedConnectionLimits.ts), which
 * keeps two workers' limits in step through their peer messages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shareConnectionCounts, type ConnectionCountSharing } from '../../src/cluster/sharedConnectionLimits.js';
import type { WorkerPeers } from '../../src/cluster/serveWithWorkers.js';
import { ConnectionLimits } from '../../src/server/defence/ConnectionLimits.js';

describe('ConnectionLimits with peers', () => {
  it('counts a peer\'s connections toward both limits, and forgets them when the peer exits', () => {
    const limits = new ConnectionLimits({ maxConnections: 3, maxConnectionsPerIP: 1 });
    limits.peerOpened(101, '10.0.0.1');
    assert.match(limits.open('10.0.0.1') ?? '', /too many connections from 10\.0\.0\.1 \(max 1\)/);
    assert.equal(limits.open('::ffff:10.0.0.2'), undefined, 'another address is fine');
    limits.peerOpened(102, '10.0.0.3');
    assert.equal(limits.count(), 3);
    assert.match(limits.open('10.0.0.4') ?? '', /too many connections \(max 3\)/);
    limits.peerClosed(102, '10.0.0.3');
    limits.peerClosed(102, '10.0.0.3'); // a repeat gives back nothing more
    assert.equal(limits.count(), 2);
    limits.forgetPeer(101);
    assert.equal(limits.count('10.0.0.1'), 0);
    assert.equal(limits.open('10.0.0.1'), undefined);
  });

  it('tells its listeners of its own slots taken and given back, not of refusals or peers', () => {
    const limits = new ConnectionLimits({ maxConnectionsPerIP: 1 });
    const changes: string[] = [];
    limits.onChange((address, opened) => changes.push(`${opened ? '+' : '-'}${address}`));
    limits.open('10.0.0.1');
    limits.open('10.0.0.1');
    limits.peerOpened(7, '10.0.0.2');
    limits.close('10.0.0.1');
    limits.close('10.0.0.1');
    assert.deepEqual(changes, ['+10.0.0.1', '-10.0.0.1']);
  });
});

describe('shareConnectionCounts', () => {
  /** Two workers' limits joined by peer messages delivered at once (the primary's relay, without processes). */
  function twoWorkers(options: ConstructorParameters<typeof ConnectionLimits>[0]) {
    const limits = [new ConnectionLimits(options), new ConnectionLimits(options)];
    const sharing: ConnectionCountSharing[] = [];
    const sent: unknown[] = [];
    limits.forEach((own, i) => {
      const peers: WorkerPeers = { id: 100 + i, send: (message) => (sent.push(message), sharing[1 - i]!.onPeerMessage(message)) };
      sharing[i] = shareConnectionCounts(own, peers);
    });
    return { limits, sharing, sent };
  }

  it('makes a limit hold across workers, and frees the slots of a worker that exits', () => {
    const { limits: [a, b], sharing } = twoWorkers({ maxConnectionsPerIP: 1 });
    assert.equal(a!.open('10.0.0.1'), undefined);
    assert.match(b!.open('10.0.0.1') ?? '', /too many connections from 10\.0\.0\.1/);
    a!.close('10.0.0.1');
    assert.equal(b!.open('10.0.0.1'), undefined);
    assert.match(a!.open('10.0.0.1') ?? '', /too many connections/);
    sharing[0]!.onPeerExit(101); // worker b is gone
    assert.equal(a!.open('10.0.0.1'), undefined);
  });

  it('sends nothing when no limit is set', () => {
    const { limits: [a], sent } = twoWorkers({});
    a!.open('10.0.0.1');
    a!.close('10.0.0.1');
    assert.deepEqual(sent, []);
  });
});
