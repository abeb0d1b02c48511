/**
 * Bytes a chunk holds at most. A file is a list of chunks, so growing it
 * never copies what is already there: one contiguous buffer, doubled and
 * copied as the file grew, held two copies at once (a 512 MiB upload peaked
 * at 1.2 GiB).
 */
const CHUNK = 1024 * 1024;
/** The smallest buffer the first chunk starts with; it doubles as needed, so small files stay small. */
const MIN_CHUNK = 4 * 1024;

let zeros: Buffer | undefined;
/** `length` (<= CHUNK) zero bytes, to show holes; one shared buffer that nobody writes to. */
function zeroBytes(length: number): Buffer {
  zeros ??= Buffer.alloc(CHUNK);
  return zeros.subarray(0, length);
}

/**
 * A file's bytes, in chunks of up to CHUNK bytes. A chunk may hold fewer than
 * CHUNK bytes, or be absent (never written): what it does not hold reads as
 * zeros. Bytes past the file's size are kept zero (see truncate), so that
 * growing the size shows zeros.
 */
export class FileContent {
  private chunks: (Buffer | undefined)[] = [];

  /** Copies `data` in at `offset`; the caller tracks the size. */
  write(offset: number, data: Buffer): void {
    for (let done = 0; done < data.length; ) {
      const at = offset + done;
      const index = Math.floor(at / CHUNK);
      const within = at - index * CHUNK;
      const take = Math.min(CHUNK - within, data.length - done);
      data.copy(this.chunkWithRoom(index, within + take), within, done, done + take);
      done += take;
    }
  }

  /** Copies the bytes at [offset, offset + target.length) into `target`. */
  readInto(offset: number, target: Buffer): void {
    let copied = 0;
    this.forEachSlice(offset, offset + target.length, (slice) => {
      copied += slice.copy(target, copied);
    });
  }

  /** Calls `visit` with the bytes of [start, end) in order: views of the chunks, and zeros for what they do not hold. */
  forEachSlice(start: number, end: number, visit: (slice: Buffer) => void): void {
    for (let position = start; position < end; ) {
      const index = Math.floor(position / CHUNK);
      const within = position - index * CHUNK;
      const stop = Math.min(CHUNK, within + (end - position));
      const chunk = this.chunks[index];
      const held = Math.min(stop, chunk?.length ?? 0);
      if (held > within) visit(chunk!.subarray(within, held));
      const missing = stop - Math.max(within, held);
      if (missing > 0) visit(zeroBytes(missing));
      position += stop - within;
    }
  }

  /** Forgets everything from `size` on (the caller sets the size), so growing again shows zeros. */
  truncate(size: number): void {
    const keep = Math.ceil(size / CHUNK);
    if (this.chunks.length > keep) this.chunks.length = keep;
    const last = this.chunks[keep - 1];
    const within = size - (keep - 1) * CHUNK;
    if (last !== undefined && within < last.length) last.fill(0, within);
  }

  /** Chunk `index`, allocated or grown (zero-filled) to hold at least `length` bytes. */
  private chunkWithRoom(index: number, length: number): Buffer {
    const chunk = this.chunks[index];
    if (chunk !== undefined && chunk.length >= length) return chunk;
    // Past the first chunk the file is large already: a whole chunk at once, not a copy per doubling.
    let size = index > 0 ? CHUNK : (chunk?.length ?? MIN_CHUNK);
    while (size < length) size *= 2;
    const grown = Buffer.alloc(Math.min(CHUNK, size));
    chunk?.copy(grown);
    this.chunks[index] = grown;
    return grown;
  }
}
