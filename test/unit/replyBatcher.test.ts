import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { ReplyBatcher } from '../../src/sftp/ReplyBatcher.js';
import { loopbackPair } from '../helpers/loopbackPair.js';

/** A stream that records each write it is given. */
function recordingStream(): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk.toString());
      callback();
    },
  });
  return { stream, writes };
}

describe('ReplyBatcher', () => {
  it('writes what one phase queued in one write, and at once when told to', async () => {
    const { stream, writes } = recordingStream();
    const batcher = new ReplyBatcher(stream, () => {});
    batcher.push(Buffer.from('a'));
    batcher.push(Buffer.from('b'));
    assert.deepEqual(writes, [], 'nothing written before the end of the phase');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes, ['ab']);
    batcher.push(Buffer.from('c'), undefined, true);
    assert.deepEqual(writes, ['ab', 'c']);
  });

  it('cancels the scheduled write when told to write at once, so that it cannot cut a later batch short', async () => {
    const { stream, writes } = recordingStream();
    const batcher = new ReplyBatcher(stream, () => {});
    // c and d are queued in the next check phase, by immediates on either side of the one `a` schedules.
    setImmediate(() => batcher.push(Buffer.from('c')));
    batcher.push(Buffer.from('a'));
    batcher.push(Buffer.from('b'), undefined, true);
    setImmediate(() => batcher.push(Buffer.from('d')));
    // Two turns, counted in immediates rather than milliseconds (a timer can fire first on a loaded machine):
    // c's turn schedules the flush of c and d, and the turn after runs it before this promise resolves.
    await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
    assert.deepEqual(writes, ['ab', 'cd']);
  });

  it('corks the socket under the channel only for a write longer than one SSH packet', async () => {
    const pair = await loopbackPair();
    try {
      const socket = pair.serverSide;
      const corkedAtWrite: [number, number][] = [];
      const channel = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          corkedAtWrite.push([chunk.length, socket.writableCorked]);
          callback();
        },
      });
      const batcher = new ReplyBatcher(channel, () => {}, { socket });
      batcher.push(Buffer.alloc(1024), undefined, true);
      batcher.push(Buffer.alloc(40 * 1024), undefined, true);
      assert.deepEqual(corkedAtWrite, [[1024, 0], [40 * 1024, 1]]);
      assert.equal(socket.writableCorked, 0, 'uncorked after the write');
    } finally {
      pair.close();
    }
  });
});
