/**
 * The sftp-expose server the bench measures, run as its own process so that
 * its memory can be read from /proc. Prints `listening <port>` on stdout once
 * every worker accepts connections.
 *
 *   node --import tsx bench/sftpExposeServer.ts --authorized-keys FILE --host-key FILE
 *        (--root DIR | --memory) [--port 0] [--workers N]
 *
 * The bench starts it with SERVER_NODE_FLAGS before these (as the CLI runs).
 *
 * With --workers N > 1 the process is a Node cluster primary: N workers share
 * one listening socket (the primary accepts and hands connections out round
 * robin), each worker running its own server over the same backend settings,
 * through the same serveWithWorkers as `sftp-expose serve --workers N`.
 * With --memory every worker has its own MemoryFS, so a file uploaded through
 * one worker is invisible to sessions on another: multi-worker memory runs
 * only make sense for single-connection workloads.
 *
 * It imports `sftp-expose/core` (dist/core.js), as the README advises for a
 * server over the local disk or memory: the full entry would add some 40 MiB
 * of SDKs it never uses to every RSS the bench reports.
 */
import cluster from 'node:cluster';
import diagnostics_channel from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { serveWithWorkers } from '../dist/cluster/serveWithWorkers.js';
import { createStderrLogger } from '../dist/logger.js';
import { channelNames, type SyncCallsEvent } from '../dist/observability/events.js';
import { LocalFS, MemoryFS, parseAuthorizedKeys, type FS } from '../dist/core.js';
import { BenchSFTPServer } from './benchServer.js';

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

// Synchronous fs calls turned off mid-run change what a round measures (each metadata call a
// threadpool round trip): bench/servers/sftpExpose.ts passes these lines on to the bench's output.
diagnostics_channel.subscribe(channelNames.syncCalls, (message) => {
  const { calls, enabled } = message as SyncCallsEvent;
  process.stderr.write(`sftp-expose: synchronous ${calls} calls ${enabled ? 'back on' : 'off'}\n`);
});

const workers = Number(values.workers);
if (!values['host-key'] || !values['authorized-keys'] || (!values.root && !values.memory) || !(workers >= 1)) {
  process.stderr.write('usage: sftpExposeServer.ts --host-key FILE --authorized-keys FILE (--root DIR | --memory) [--port N] [--workers N]\n');
  process.exit(2);
}

/** One server over the backend settings; with --memory each process has its own MemoryFS. */
async function listen(hostKey: string): Promise<{ port: number; close(): Promise<void> }> {
  const fs: FS = values.memory ? new MemoryFS() : new LocalFS({ root: values.root! });
  const keys = parseAuthorizedKeys(readFileSync(values['authorized-keys']!, 'utf8'));
  const server = new BenchSFTPServer(fs, hostKey, keys);
  const { port } = await server.listen(Number(values.port), values.host);
  return { port, close: () => server.close() };
}

if (workers === 1) {
  const server = await listen(values['host-key']!);
  const stop = () => {
    server.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`listening ${server.port}\n`);
} else {
  // The product's cluster mode (serve --workers): the host key file is read once, in the primary.
  const code = await serveWithWorkers<string>(listen, {
    workers,
    shared: cluster.isPrimary ? readFileSync(values['host-key']!, 'utf8') : '',
    onListening: ({ port }) => process.stdout.write(`listening ${port}\n`),
    logger: createStderrLogger('warn'),
  });
  process.exit(code);
}
