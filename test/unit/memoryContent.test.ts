import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { FileContent } from '../../src/backends/memory/content.js';

const MiB = 1024 * 1024;

/** The same operations on one plain buffer: what the chunks must read back as. */
class Model {
  bytes = Buffer.alloc(0);
  write(offset: number, data: Buffer): void {
    if (offset + data.length > this.bytes.length) {
      const grown = Buffer.alloc(offset + data.length);
      this.bytes.copy(grown);
      this.bytes = grown;
    }
    data.copy(this.bytes, offset);
  }
  truncate(size: number): void {
    this.bytes = this.bytes.subarray(0, size);
  }
}

function contentOf(content: FileContent, size: number): Buffer {
  const out = Buffer.alloc(size, 0xee);
  content.readInto(0, out);
  return out;
}

describe('MemoryFS file content in chunks', () => {
  it('reads back random writes across chunk boundaries, holes as zeros, truncation and regrowth as zeros', () => {
    const content = new FileContent();
    const model = new Model();
    let size = 0;
    for (let step = 0; step < 300; step++) {
      if (step % 25 === 24) {
        size = randomInt(0, size + 1);
        content.truncate(size);
        model.truncate(size);
        continue;
      }
      // Mostly near the end (appends), sometimes far (holes), lengths from 1 byte to past a chunk.
      const offset = step % 7 === 0 ? randomInt(0, 5 * MiB) : randomInt(0, size + 1);
      const data = randomBytes(step % 11 === 0 ? randomInt(MiB, 2 * MiB) : randomInt(1, 70_000));
      content.write(offset, data);
      model.write(offset, data);
      size = Math.max(size, offset + data.length);
    }
    // Grown past the last truncation: the bytes that were cut must read as zeros.
    const grownSize = size + 3 * MiB;
    model.write(grownSize - 1, Buffer.from([0]));
    assert.ok(contentOf(content, grownSize).equals(model.bytes));
    const from = randomInt(0, size);
    const slices: Buffer[] = [];
    content.forEachSlice(from, grownSize, (slice) => slices.push(Buffer.from(slice)));
    assert.ok(Buffer.concat(slices).equals(model.bytes.subarray(from)), 'slices cover the range in order');
  });
});
