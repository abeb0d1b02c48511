import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HandleQueue } from '../../src/sftp/HandleQueue.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A promise the test settles by hand. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

describe('HandleQueue: per-handle request order', () => {
  it('lets shared operations overlap', async () => {
    const queue = new HandleQueue();
    const first = gate();
    let secondStarted = false;
    const a = queue.shared(() => first.promise);
    const b = queue.shared(async () => {
      secondStarted = true;
    });
    await b;
    assert.equal(secondStarted, true, 'the second read ran while the first was still pending');
    first.open();
    await a;
  });

  it('starts an exclusive operation only after every earlier one settled, and holds back later ones', async () => {
    const queue = new HandleQueue();
    const events: string[] = [];
    const read = gate();
    const r1 = queue.shared(async () => {
      await read.promise;
      events.push('read done');
    });
    const w = queue.exclusive(async () => {
      events.push('write');
    });
    const r2 = queue.shared(async () => {
      events.push('later read');
    });
    await Promise.resolve();
    assert.deepEqual(events, []);
    read.open();
    await Promise.all([r1, w, r2]);
    assert.deepEqual(events, ['read done', 'write', 'later read']);
  });

  it('keeps going after a failed operation, and reports the failure to its caller only', async () => {
    const queue = new HandleQueue();
    await assert.rejects(queue.exclusive(async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await queue.shared(async () => 'next'), 'next');
  });

  it('does not keep the results of finished reads (a long download must not hold what it read)', async () => {
    const queue = new HandleQueue();
    const refs: WeakRef<Buffer>[] = [];
    for (let i = 0; i < 50; i++) {
      await queue.shared(async () => {
        const data = Buffer.alloc(64 * 1024, i);
        refs.push(new WeakRef(data));
        return data;
      });
    }
    // Let the settle bookkeeping run, then collect.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(refs.filter((ref) => ref.deref() !== undefined).length, 0);
  });
});
