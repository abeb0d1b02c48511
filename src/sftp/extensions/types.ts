import type { FS } from '../../fs/FS.js';
import type { PacketReader } from '../protocol/codec.js';
import { StatusCode } from '../protocol/constants.js';
import { encodeName, encodeStatus } from '../protocol/messages.js';
import type { SessionLimits } from '../limits.js';
import type { OpenFile, SFTPServerInterface } from '../SFTPServerInterface.js';

/** What an extension handler may reach of its session. */
export interface ExtensionContext {
  si: SFTPServerInterface;
  limits: SessionLimits;
  /** The open file behind a handle, run in that handle's order; throws for a bad handle. */
  withFile<T>(handle: Buffer, mode: 'shared' | 'exclusive', operation: (open: OpenFile) => Promise<T>): Promise<T>;
}

/** One EXTENDED request type: advertised in VERSION only when the FS can do it. */
export interface Extension {
  name: string;
  /** The version string sent in VERSION (OpenSSH's extensions use "1"). */
  version: string;
  /** Extensions that change the filesystem are not offered on a read-only FS. */
  writes: boolean;
  isAvailable(fs: FS): boolean;
  /** Reads its own fields from `payload` and returns the encoded reply. */
  handle(context: ExtensionContext, id: number, payload: PacketReader): Promise<Buffer>;
}

export const okStatus = (id: number): Buffer => encodeStatus(id, StatusCode.OK);
export const always = (): boolean => true;

/** A NAME reply with one path, shaped as OpenSSH answers REALPATH (longname = name, no attributes). */
export function encodeSinglePath(id: number, path: string): Buffer {
  return encodeName(id, [{ filename: path, longname: path, attrs: {} }]);
}

