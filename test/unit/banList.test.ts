import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BanList, defaultBanPolicy } from '../../src/server/defence/BanList.js';
import { ManualClock } from '../../src/server/defence/clock.js';
import { AddressList, AddressSyntaxError, normalizeAddress } from '../../src/server/defence/addressList.js';

const MINUTE = 60_000;

describe('BanList', () => {
  it('bans an address at the Nth failure within the window, and not before', () => {
    const clock = new ManualClock();
    const bans = new BanList({ maxFailures: 3, windowMs: MINUTE, banMs: 10 * MINUTE }, clock);
    assert.equal(bans.recordFailure('192.0.2.1'), undefined);
    assert.equal(bans.recordFailure('192.0.2.1'), undefined);
    assert.equal(bans.isBanned('192.0.2.1'), false);
    const ban = bans.recordFailure('192.0.2.1');
    assert.deepEqual(ban, { address: '192.0.2.1', until: 10 * MINUTE, failures: 3 });
    assert.equal(bans.isBanned('192.0.2.1'), true);
    assert.equal(bans.isBanned('192.0.2.2'), false, 'other addresses are not affected');
  });

  it('lifts the ban when its time is up', () => {
    const clock = new ManualClock();
    const bans = new BanList({ maxFailures: 2, windowMs: MINUTE, banMs: 10 * MINUTE }, clock);
    bans.recordFailure('198.51.100.9');
    bans.recordFailure('198.51.100.9');
    clock.advance(10 * MINUTE - 1);
    assert.equal(bans.isBanned('198.51.100.9'), true);
    clock.advance(1);
    assert.equal(bans.isBanned('198.51.100.9'), false);
    assert.deepEqual(bans.activeBans(), []);
    // Starts from zero again: one failure after the ban is not a new ban.
    assert.equal(bans.recordFailure('198.51.100.9'), undefined);
  });

  it('forgets failures that fell out of the window', () => {
    const clock = new ManualClock();
    const bans = new BanList({ maxFailures: 3, windowMs: MINUTE, banMs: MINUTE }, clock);
    bans.recordFailure('203.0.113.5');
    clock.advance(40_000);
    bans.recordFailure('203.0.113.5');
    clock.advance(30_000); // the first failure is now 70 s old
    assert.equal(bans.recordFailure('203.0.113.5'), undefined);
    assert.equal(bans.isBanned('203.0.113.5'), false);
    assert.ok(bans.recordFailure('203.0.113.5'), 'three failures within 60 s ban');
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 address', () => {
    const bans = new BanList({ maxFailures: 2 }, new ManualClock());
    bans.recordFailure('::ffff:192.0.2.44');
    bans.recordFailure('192.0.2.44');
    assert.equal(bans.isBanned('192.0.2.44'), true);
    assert.equal(bans.isBanned('::FFFF:192.0.2.44'), true);
  });

  it('never bans loopback by default, but does when the exemption is removed', () => {
    const lenient = new BanList({ maxFailures: 1 }, new ManualClock());
    assert.equal(lenient.recordFailure('127.0.0.1'), undefined);
    assert.equal(lenient.recordFailure('::1'), undefined);
    assert.equal(lenient.isBanned('127.0.0.1'), false);
    const strict = new BanList({ maxFailures: 1, exempt: [] }, new ManualClock());
    assert.ok(strict.recordFailure('127.0.0.1'));
    assert.equal(strict.isBanned('127.0.0.1'), true);
  });

  it('is on by default and off with maxFailures 0', () => {
    assert.ok(defaultBanPolicy.maxFailures > 0);
    const off = new BanList({ maxFailures: 0, exempt: [] }, new ManualClock());
    for (let i = 0; i < 100; i++) off.recordFailure('192.0.2.1');
    assert.equal(off.isBanned('192.0.2.1'), false);
  });

  it('tells listeners about each new ban once', () => {
    const bans = new BanList({ maxFailures: 2, exempt: [] }, new ManualClock());
    const seen: string[] = [];
    bans.onBan((ban) => seen.push(ban.address));
    for (let i = 0; i < 5; i++) bans.recordFailure('10.1.2.3');
    assert.deepEqual(seen, ['10.1.2.3']);
  });

  it("counts a peer's failures toward a ban, but passes on only its own", () => {
    const bans = new BanList({ maxFailures: 3, exempt: ['10.0.0.0/8'] }, new ManualClock());
    const passedOn: string[] = [];
    bans.onFailure((address) => passedOn.push(address));
    assert.equal(bans.recordFailure('192.0.2.7', 'peer'), undefined);
    assert.equal(bans.recordFailure('::ffff:192.0.2.7'), undefined);
    bans.recordFailure('10.9.9.9'); // exempt: counts for nothing, so nothing to pass on
    assert.ok(bans.recordFailure('192.0.2.7', 'peer'), 'the third failure bans, wherever it was seen');
    bans.recordFailure('192.0.2.7'); // already banned: not counted
    assert.deepEqual(passedOn, ['192.0.2.7'], 'only the failure seen here, normalized');
  });

  it('a starting worker takes on the bans in force elsewhere, for the time they have left, without announcing them', async () => {
    const { shareAuthFailures } = await import('../../src/cluster/sharedBans.js');
    const clock = new ManualClock();
    const handlers = new Map<number, (message: unknown) => void>();
    /** A worker's ban list on a relay that delivers each message, as IPC does, after the sender's turn, to every other worker started by then. */
    const start = (id: number) => {
      const list = new BanList({ maxFailures: 1, exempt: [], banMs: 10 * MINUTE }, clock);
      const relay = (message: unknown) => handlers.forEach((handle, other) => other !== id && handle(message));
      handlers.set(id, shareAuthFailures(list, { id, send: (message) => setImmediate(relay, message) }));
      return list;
    };
    const delivered = () => new Promise((resolve) => setTimeout(resolve, 10));
    const first = start(1);
    first.recordFailure('192.0.2.7');
    await delivered(); // its news of the failure reaches no one: no other worker yet
    clock.advance(4 * MINUTE);
    const second = start(2);
    const announced: string[] = [];
    second.onBan((ban) => announced.push(ban.address));
    await delivered();
    assert.equal(second.isBanned('192.0.2.7'), true, 'banned on the new worker too');
    assert.deepEqual(announced, [], 'an adopted ban is not a new one');
    clock.advance(6 * MINUTE - 1);
    assert.equal(second.isBanned('192.0.2.7'), true);
    clock.advance(1);
    assert.equal(second.isBanned('192.0.2.7'), false, 'for the six minutes it had left');
  });

  it('forgive lifts a ban at once', () => {
    const bans = new BanList({ maxFailures: 1, exempt: [] }, new ManualClock());
    bans.recordFailure('10.9.9.9');
    bans.forgive('10.9.9.9');
    assert.equal(bans.isBanned('10.9.9.9'), false);
  });
});

describe('AddressList', () => {
  it('matches CIDRs and single addresses of both families', () => {
    const list = new AddressList(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
    assert.equal(list.has('10.200.3.4'), true);
    assert.equal(list.has('11.0.0.1'), false);
    assert.equal(list.has('192.0.2.7'), true);
    assert.equal(list.has('192.0.2.8'), false);
    assert.equal(list.has('::ffff:10.1.1.1'), true);
    assert.equal(list.has('2001:db8:1::5'), true);
    assert.equal(list.has('2001:db9::5'), false);
    assert.equal(list.has('not an address'), false);
  });

  it('refuses entries that are not addresses or CIDRs, naming them', () => {
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '::1/129', '10.0.0.0/x', '']) {
      assert.throws(() => new AddressList([bad]), (error: Error) => error instanceof AddressSyntaxError && error.message.includes(`"${bad}"`));
    }
  });

  it('normalizes addresses for keys', () => {
    assert.equal(normalizeAddress('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(normalizeAddress('2001:DB8::1'), '2001:db8::1');
  });
});
