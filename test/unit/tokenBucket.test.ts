import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BandwidthLimiter, BandwidthSyntaxError, parseBandwidthLimit, parseBandwidthRate } from '../../src/server/defence/bandwidth.js';
import { ManualClock } from '../../src/server/defence/clock.js';
import { TokenBucket, takeFromAll } from '../../src/server/defence/tokenBucket.js';
import { ThrottledFS } from '../../src/fs/wrappers/throttled.js';
import { MemoryFS } from '../../src/backends/memory.js';
import { parseOpenFlags } from '../../src/fs/types.js';

const MiB = 1024 * 1024;

describe('TokenBucket', () => {
  it('lets a burst through at once, then charges time for the rest at the rate', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(1000, 100, clock);
    assert.equal(bucket.reserve(100), 0, 'the saved-up burst costs no wait');
    assert.equal(bucket.reserve(500), 500, '500 bytes at 1000 B/s: 500 ms');
    assert.equal(bucket.reserve(250), 750, 'the next taker queues behind the debt');
    clock.advance(750);
    assert.equal(bucket.available, 0);
  });

  it('refills at the rate up to the burst, never beyond', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(1000, 100, clock);
    bucket.reserve(100);
    clock.advance(50);
    assert.equal(bucket.available, 50);
    clock.advance(60_000);
    assert.equal(bucket.available, 100);
  });

  it('take() resolves only when the debt is paid', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(1000, 1, clock);
    let done = false;
    const taking = bucket.take(201).then(() => (done = true));
    await Promise.resolve();
    clock.advance(199);
    await Promise.resolve();
    assert.equal(done, false);
    clock.advance(1);
    await taking;
    assert.equal(done, true);
  });

  it('takeFromAll waits for the tightest bucket', () => {
    const clock = new ManualClock();
    const fast = new TokenBucket(10_000, 1, clock);
    const slow = new TokenBucket(1_000, 1, clock);
    void takeFromAll([fast, slow], 1001, clock);
    assert.equal(clock.pendingSleeps, 1);
    clock.advance(100);
    assert.equal(clock.pendingSleeps, 1, 'still waiting on the slow bucket');
    clock.advance(900);
    assert.equal(clock.pendingSleeps, 0);
  });

  it('refuses a rate that is not positive', () => {
    assert.throws(() => new TokenBucket(0), RangeError);
    assert.throws(() => new TokenBucket(Number.NaN), RangeError);
  });
});

describe('rclone --bwlimit syntax', () => {
  it('reads sizes with binary suffixes, KiB when there is none', () => {
    assert.equal(parseBandwidthRate('10M'), 10 * MiB);
    assert.equal(parseBandwidthRate('1.5M'), 1.5 * MiB);
    assert.equal(parseBandwidthRate('512k'), 512 * 1024);
    assert.equal(parseBandwidthRate('100'), 100 * 1024);
    assert.equal(parseBandwidthRate('100B'), 100);
    assert.equal(parseBandwidthRate('1G'), 1024 * MiB);
    assert.equal(parseBandwidthRate('2MiB'), 2 * MiB);
    assert.equal(parseBandwidthRate('off'), 0);
  });

  it('reads UP:DOWN pairs, one value for both directions, and off', () => {
    assert.deepEqual(parseBandwidthLimit('1.5M:512k'), { upload: 1.5 * MiB, download: 512 * 1024 });
    assert.deepEqual(parseBandwidthLimit('10M'), { upload: 10 * MiB, download: 10 * MiB });
    assert.deepEqual(parseBandwidthLimit('off:1M'), { upload: 0, download: MiB });
    assert.deepEqual(parseBandwidthLimit('off'), { upload: 0, download: 0 });
  });

  it('refuses nonsense and timetables with a message naming the value', () => {
    for (const bad of ['fast', '10X', '1:2:3', '-5M', '08:00,512k 12:00,10M']) {
      assert.throws(() => parseBandwidthLimit(bad), (error: Error) => error instanceof BandwidthSyntaxError && error.message.includes(bad));
    }
  });
});

describe('BandwidthLimiter', () => {
  it('gives every session the global buckets, and a user one pair shared by their sessions', () => {
    const limiter = new BandwidthLimiter({ upload: 1000, download: 2000 }, new ManualClock());
    const a = limiter.acquire('alice', { download: 500 });
    const b = limiter.acquire('alice', { download: 500 });
    const c = limiter.acquire('bob');
    assert.equal(a.download.length, 2);
    assert.equal(a.download[1], b.download[1], "alice's sessions share her bucket");
    assert.equal(a.download[0], c.download[0], 'everyone shares the global bucket');
    assert.equal(c.download.length, 1);
    assert.equal(a.upload.length, 1, 'no user upload limit: only the global one');
    a.release();
    b.release();
    const d = limiter.acquire('alice', { download: 500 });
    assert.notEqual(d.download[1], a.download[1], 'a user with no sessions left is forgotten');
  });
});

describe('ThrottledFS', () => {
  it('charges the bytes read and written, and passes data through unchanged', async () => {
    const inner = new MemoryFS();
    const charged: string[] = [];
    const fs = new ThrottledFS(inner, {
      read: async (n) => void charged.push(`read ${n}`),
      write: async (n) => void charged.push(`write ${n}`),
    });
    await fs.writeFile('/f', Buffer.from('hello world'));
    assert.deepEqual(await fs.readFile('/f'), Buffer.from('hello world'));
    assert.deepEqual(charged, ['write 11', 'read 11'], 'the empty read at EOF costs nothing');
    const handle = await fs.open('/f', parseOpenFlags('r'));
    await handle.close();
    assert.equal(fs.isReadOnly, false);
    assert.equal(typeof fs.copy, typeof inner.copy, 'capabilities pass through exactly');
  });
});
