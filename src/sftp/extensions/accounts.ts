import type { AccountNames } from '../../fs/types.js';
import { MalformedPacket, PacketReader, PacketWriter } from '../protocol/codec.js';
import { encodeExtendedReply } from '../protocol/messages.js';
import { always, type Extension } from './types.js';

/**
 * Implemented by an SFTPServerInterface subclass that knows the names behind
 * the uids and gids its FS reports (a backend with its own user table). Every
 * SFTPServerInterface has the method now (SFTPServerInterface.accountNames);
 * this names its shape for code written against it.
 * @deprecated Override SFTPServerInterface.accountNames.
 */
export interface AccountNameLookup {
  accountNames(): AccountNames | Promise<AccountNames>;
}

function readIds(list: Buffer, field: string): number[] {
  if (list.length % 4 !== 0) throw new MalformedPacket(`${field} is not a list of uint32`);
  const reader = new PacketReader(list);
  const ids: number[] = [];
  while (reader.remaining > 0) ids.push(reader.uint32(field));
  return ids;
}

function encodeNameList(ids: number[], names: ReadonlyMap<number, string>): Buffer {
  const writer = new PacketWriter(0, 16 + ids.length * 12);
  for (const id of ids) writer.string(names.get(id) ?? '');
  return writer.fields();
}

/** users-groups-by-id@openssh.com: names for ids, in request order, empty where unknown. */
export const accountExtensions: Extension[] = [
  {
    name: 'users-groups-by-id@openssh.com', version: '1', writes: false, isAvailable: always,
    async handle({ si }, id, payload) {
      const uids = readIds(payload.bytes('uids'), 'uids');
      const gids = readIds(payload.bytes('gids'), 'gids');
      const names = await si.accountNames();
      const reply = new PacketWriter(0, 64).bytes(encodeNameList(uids, names.users)).bytes(encodeNameList(gids, names.groups));
      return encodeExtendedReply(id, reply.fields());
    },
  },
];
