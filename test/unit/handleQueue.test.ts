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

  it('answers in the order asked: a send hooked on at once runs in that order, however the reads finish', async () => {
    const queue = new HandleQueue();
    const reads = [gate<string>(), gate<string>(), gate<string>()];
    const sent: string[] = [];
    const failed = gate<string>();
    // As Session.dispatch does: the send is hooked onto each answer as soon as it is returned.
    const answers = [...reads.map((read) => read.promise), failed.promise.then(() => Promise.reject(new Error('bad read')))].map((answer) => queue.inOrder(answer));
    for (const [i, answer] of answers.entries()) answer.then((data) => sent.push(data), (error: Error) => sent.push(`${i}: ${error.message}`));
    failed.open('');
    reads[2]!.open('third');
    reads[1]!.open('second');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent, [], 'nothing overtakes the first answer');
    reads[0]!.open('first');
    await Promise.allSettled(answers);
    assert.deepEqual(sent, ['first', 'second', 'third', '3: bad read'], 'a failure is answered in its turn too');
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
