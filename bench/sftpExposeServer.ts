/**
 * The sftp-expose server the bench measures, run as its own process so that
 * its memory can be read from /proc. Prints `listening <port>` on stdout once
 * every worker accepts connections.
 *
 *   node --import tsx bench/sftpExposeServer.ts --authorized-keys FILE --host-key FILE
 *        (--root DIR | --memory) [--port 0] [--workers N]
 *
 * With --workers N > 1 the process is a Node cluster primary: N workers share
 * one listening socket (the primary accepts and hands connections out round
 * robin), each worker running its own server over the same backend settings.
 * The library has no cluster mode yet, so the wrapper lives here for now.
 * With --memory every worker has its own MemoryFS, so a file uploaded through
 * one worker is invisible to sessions on another: multi-worker memory runs
 * only make sense for single-connection workloads.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AuthResult, BaseSFTPServer, LocalFS, MemoryFS, isKeyAllowed, parseAuthorizedKeys, type AuthMethod, type FS, type PublicKey } from '../src/index.js';

/** Lets in any user holding one of the authorized keys (the bench's only client key). */
class BenchSFTPServer extends BaseSFTPServer {
  constructor(fs: FS, hostKey: string, private readonly authorized: PublicKey[]) {
    super({ fs, hostKeys: [hostKey] });
  }

  override getAllowedAuths(): AuthMethod[] {
    return ['publickey'];
  }

  override checkAuthPublickey(_username: string, key: PublicKey): AuthResult {
    return isKeyAllowed(this.authorized, key) ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
  }
}

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    memory: { type: 'boolean', default: false },
    'host-key': { type: 'string' },
    'authorized-keys': { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    workers: { type: 'string', default: '1' },
  },
});

const workers = Number(values.workers);
if (!values['host-key'] || !values['authorized-keys'] || (!values.root && !values.memory) || !(workers >= 1)) {
  process.stderr.write('usage: sftpExposeServer.ts --host-key FILE --authorized-keys FILE (--root DIR | --memory) [--port N] [--workers N]\n');
  process.exit(2);
}

async function serve(): Promise<number> {
  const fs: FS = values.memory ? new MemoryFS() : new LocalFS({ root: values.root! });
  const keys = parseAuthorizedKeys(readFileSync(values['authorized-keys']!, 'utf8'));
  const server = new BenchSFTPServer(fs, values['host-key']!, keys);
  const { port } = await server.listen(Number(values.port), values.host);
  const stop = () => {
    server.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return port;
}

if (workers === 1) {
  const port = await serve();
  process.stdout.write(`listening ${port}\n`);
} else if (cluster.isPrimary) {
  let ready = 0;
  let port = 0;
  cluster.on('listening', (_worker, address) => {
    port = address.port;
    if (++ready === workers) process.stdout.write(`listening ${port}\n`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      process.stderr.write(`worker ${worker.process.pid} died (${signal ?? code}); stopping\n`);
      shutdown(1);
    }
  });
  let stopping = false;
  const shutdown = (code: number) => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    const timer = setTimeout(() => process.exit(code), 5000);
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        clearTimeout(timer);
        process.exit(code);
      }
    });
  };
  process.once('SIGTERM', () => shutdown(0));
  process.once('SIGINT', () => shutdown(0));
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  await serve();
  // The primary going away (killed without a chance to stop us) must not leave orphans.
  process.once('disconnect', () => process.exit(0));
}
