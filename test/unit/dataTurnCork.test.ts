/**
 * corkDataTurnsWhileQueued on a real loopback TCP connection: the turn of an
 * incoming chunk is corked while a tracked channel has data queued, and left
 * alone otherwise (see src/ssh/dataTurnCork.ts).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { corkDataTurnsWhileQueued } from '../../src/ssh/dataTurnCork.js';
import { loopbackPair } from '../helpers/loopbackPair.js';

/** A channel whose first write stays queued until `release` (as ssh2's does while it waits for window). */
function heldChannel(): { channel: Writable; release: () => void } {
  let pending: (() => void) | undefined;
  const channel = new Writable({ write: (_chunk, _encoding, callback) => void (pending = callback) });
  return { channel, release: () => pending?.() };
}

describe('corkDataTurnsWhileQueued', () => {
  let pair: Awaited<ReturnType<typeof loopbackPair>>;
  let serverSide: Socket;
  let clientSide: Socket;

  before(async () => {
    pair = await loopbackPair();
    ({ serverSide, clientSide } = pair);
  });
  after(() => pair.close());

  /** How corked the server's socket is inside the 'data' turn of one chunk, and after that turn's ticks. */
  async function corkedDuringNextChunk(): Promise<{ during: number; after: number }> {
    const during = new Promise<number>((resolve) => serverSide.once('data', () => resolve(serverSide.writableCorked)));
    clientSide.write('x');
    const result = await during;
    await new Promise((resolve) => setImmediate(resolve));
    return { during: result, after: serverSide.writableCorked };
  }

  it('corks the turn while a channel has data queued, and uncorks it after', async () => {
    const track = corkDataTurnsWhileQueued(serverSide);
    const { channel, release } = heldChannel();
    track(channel);
    assert.deepEqual(await corkedDuringNextChunk(), { during: 0, after: 0 }, 'nothing queued: left alone');
    channel.write(Buffer.alloc(10));
    assert.ok(channel.writableLength > 0);
    assert.deepEqual(await corkedDuringNextChunk(), { during: 1, after: 0 }, 'queued: corked for the turn');
    release();
    assert.deepEqual(await corkedDuringNextChunk(), { during: 0, after: 0 }, 'sent: left alone again');
    channel.write(Buffer.alloc(10));
    channel.destroy();
    await once(channel, 'close');
    assert.deepEqual(await corkedDuringNextChunk(), { during: 0, after: 0 }, 'a closed channel is no longer watched');
  });
});
