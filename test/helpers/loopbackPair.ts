import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

/** Both ends of one real TCP connection on 127.0.0.1; `close` ends them and the listener. */
export async function loopbackPair(): Promise<{ serverSide: Socket; clientSide: Socket; close(): void }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const clientSide = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
  const [serverSide] = (await accepted) as [Socket];
  return {
    serverSide,
    clientSide,
    close() {
      clientSide.destroy();
      serverSide.destroy();
      server.close();
    },
  };
}
