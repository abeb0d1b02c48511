import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/observability/pinoLogger.js';

/** A stream that keeps what is written to it. */
function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('createLogger', () => {
  it('writes one JSON object per line in the json format, details as fields', () => {
    const out = collector();
    const logger = createLogger({ level: 'info', format: 'json', destination: out.stream });
    logger.debug('not at this level');
    logger.info('session started', { user: 'alice' });
    const lines = out.text().trim().split('\n');
    assert.equal(lines.length, 1);
    const record = JSON.parse(lines[0]!) as { msg: string; user: string; level: number };
    assert.equal(record.msg, 'session started');
    assert.equal(record.user, 'alice');
  });

  it('writes readable lines in the pretty format (pino-pretty, loaded only for it)', async () => {
    const out = collector();
    const logger = createLogger({ level: 'info', format: 'pretty', destination: out.stream });
    logger.warn('disk almost full', { free: '1 GiB' });
    await new Promise((resolve) => setImmediate(resolve));
    const text = out.text();
    assert.match(text, /WARN/);
    assert.match(text, /disk almost full/);
    assert.match(text, /free: "1 GiB"/);
    assert.doesNotMatch(text, /^\{/, 'not JSON');
  });
});
