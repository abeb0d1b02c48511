import type { FileHandle } from './types.js';

/** `readInto` for a handle that has only `read`: one read, copied into the target. */
export async function readIntoViaRead(handle: Pick<FileHandle, 'read'>, target: Buffer, offset: number): Promise<number> {
  const data = await handle.read(offset, target.length);
  // A read longer than asked breaks the contract; never write past the target for it.
  return data.copy(target, 0, 0, Math.min(data.length, target.length));
}

/** Reads into `target` with the handle's own `readInto` when it has one, else through `read`. */
export function readIntoFile(handle: FileHandle, target: Buffer, offset: number): Promise<number> {
  return handle.readInto ? handle.readInto(target, offset) : readIntoViaRead(handle, target, offset);
}
