/**
 * SyncGuard (src/backends/nodefs/syncGuard.ts): when synchronous fs calls
 * stop being safe, and when they are safe again. Calls here busy-wait to take a known time, as blocking
 * storage would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import diagnostics_channel from 'node:diagnostics_channel';
import fs from 'node:fs';
import { Syscalls } from '../../src/backends/nodefs/syscalls.js';
import { SyncGuard } from '../../src/backends/nodefs/syncGuard.js';
import { channelNames, type SyncCallsEvent } from '../../src/observability/events.js';

const busyWait = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('SyncGuard', () => {
  it('turns off after three slow calls in a row, and a fast call in between resets the count', () => {
    const guard = new SyncGuard(1, 3);
    guard.time(() => busyWait(2));
    guard.time(() => busyWait(2));
    guard.time(() => {});
    guard.time(() => busyWait(2));
    guard.time(() => busyWait(2));
    assert.equal(guard.enabled, true);
    guard.time(() => busyWait(2));
    assert.equal(guard.enabled, false);
  });

  it('lets a large batch take longer than one call, in proportion to its size', () => {
    const guard = new SyncGuard(1, 3);
    // 1,600 calls in 3 ms: 100 calls' worth of limit (1,600 / 16) is 100 ms, so not slow, however often.
    for (let i = 0; i < 5; i++) guard.timeBatch(() => busyWait(3), () => 1600);
    assert.equal(guard.enabled, true);
    // 16 calls in 3 ms: one call's limit (1 ms) is exceeded; three in a row turn it off.
    for (let i = 0; i < 3; i++) guard.timeBatch(() => busyWait(3), () => 16);
    assert.equal(guard.enabled, false);
  });

  it('comes back on after 64 fast asynchronous calls in a row (failures count), a slow one restarting the count; 128 the next time', async () => {
    const guard = new SyncGuard(1, 3);
    const turnOff = () => {
      for (let i = 0; i < 3; i++) guard.time(() => busyWait(2));
      assert.equal(guard.enabled, false);
    };
    const fastCall = (i: number) => guard.timeAsync(() => (i % 2 ? Promise.resolve() : Promise.reject(new Error('ENOENT')))).catch(() => {});
    /** Fast calls until the guard is on again: how many it took (a call the machine happens to slow restarts the count). */
    const fastUntilOn = async () => {
      for (let i = 1; i <= 2000; i++) {
        await fastCall(i);
        if (guard.enabled) return i;
      }
      throw new Error('never came back on');
    };
    turnOff();
    for (let i = 0; i < 63; i++) await fastCall(i);
    await guard.timeAsync(() => new Promise((resolve) => setTimeout(resolve, 5)));
    assert.ok((await fastUntilOn()) >= 64, 'the slow call restarted the count');
    turnOff();
    assert.equal(guard.fastCallsToRecover, 128);
    assert.ok((await fastUntilOn()) >= 128);
  });

  it('counts a batch that throws as one call, and rethrows', () => {
    const guard = new SyncGuard(1, 1);
    assert.throws(() => guard.timeBatch(() => {
      busyWait(2);
      throw new Error('boom');
    }, () => 1000), /boom/);
    assert.equal(guard.enabled, false);
  });

  it('says when it turns off and back on', async () => {
    const switches: Array<[boolean, number]> = [];
    const guard = new SyncGuard(1, 1, (enabled, timesTurnedOff) => switches.push([enabled, timesTurnedOff]));
    guard.time(() => busyWait(2));
    // Fast calls until it is back on (on a busy machine one may be slow and restart the count).
    for (let i = 0; !guard.enabled && i < 10_000; i++) await guard.timeAsync(() => Promise.resolve());
    assert.deepEqual(switches, [[false, 1], [true, 1]]);
  });

  it('a local backend\'s guards announce their switches on sftp-expose:sync-calls (the CLI logs them)', async () => {
    const events: SyncCallsEvent[] = [];
    const listener = (message: unknown) => events.push(message as SyncCallsEvent);
    diagnostics_channel.subscribe(channelNames.syncCalls, listener);
    try {
      // Storage whose synchronous stat blocks for 3 ms, as a network filesystem's can.
      const slowStat = ((path: fs.PathLike) => (busyWait(3), fs.statSync(path))) as typeof fs.statSync;
      const sys = new Syscalls({ ...fs, statSync: slowStat } as never);
      for (let i = 0; i < 3; i++) await sys.stat('.');
      assert.equal(sys.metadata.enabled, false);
      assert.deepEqual(events, [{ calls: 'metadata', enabled: false, timesTurnedOff: 1 }]);
    } finally {
      diagnostics_channel.unsubscribe(channelNames.syncCalls, listener);
    }
  });
});
