import cluster from 'node:cluster';
import { serveWithWorkers, withWorkerPid } from '../cluster/serveWithWorkers.js';
import { shareAuthFailures } from '../cluster/sharedBans.js';
import { shareCounts } from '../cluster/sharedCounts.js';
import type { Logger } from '../logger.js';
import { prepareServerObservability } from '../observability/serverObservability.js';
import type { Defence } from '../server/defence/Defence.js';
import type { KeyedCounts } from '../server/KeyedCounts.js';
import type { CloseOptions } from '../ssh/BaseSFTPServer.js';
import { loadHostKeys } from '../ssh/hostKeys.js';
import { formatListenAddress, type ServeOptions } from './serveOptions.js';

/** What one worker runs: a server listening on the shared port. */
export interface ClusterWorker {
  server: {
    close(options: CloseOptions): Promise<void>;
    readonly defence: Defence;
    /** Sessions per user, when a limit counts them (MultiUserServer's maxSessions). */
    readonly sessionCounts?: KeyedCounts;
  };
  /** After the server has closed (the backend's close). */
  afterClose?(): Promise<void>;
  /** SIGHUP: re-reads users and keys; reports its own failures. */
  reload?(): Promise<void>;
}

export interface ClusterSpec {
  /** In a worker: listens with the host keys the primary loaded, logging through `logger` (lines tagged with the worker's pid). */
  listen(logger: Logger, hostKeys: Buffer[]): Promise<ClusterWorker>;
  /**
   * In the primary, before any worker starts: the checks that would fail in
   * every worker (they throw); returns what logs the start-up lines, last of
   * all `listening on`, once every worker listens.
   */
  prepare(hostKeys: Buffer[]): (address: string) => void;
  /** Whether workers reload on SIGHUP (else the primary says there is nothing to reload). */
  reloads: boolean;
}

/**
 * `serve --workers N`: this process becomes a cluster primary and N workers
 * each run `spec.listen` on the shared socket (see serveWithWorkers). Host
 * keys are loaded, or generated, once in the primary and handed to the
 * workers, so every session sees the same server identity. Failed logins are
 * counted across the workers (see sharedBans.ts). Each worker writes
 * the access lines of its own sessions (metrics are refused with --workers:
 * see parseWorkers) and gets --shutdown-timeout to let open files finish, as
 * a single process does.
 */
export async function runCluster(options: ServeOptions, logger: Logger, spec: ClusterSpec): Promise<number> {
  if (!cluster.isPrimary) {
    const workerLogger = withWorkerPid(logger);
    const startObservability = await prepareServerObservability({ accessLog: options.accessLog });
    return serveWithWorkers<string[]>(async (keys, peers) => {
      const worker = await spec.listen(workerLogger, keys.map((key) => Buffer.from(key, 'base64')));
      // Bans and limits count for the whole cluster: each worker tells the others, and asks them
      // as it starts (their answers can trail its first connections by a few milliseconds).
      const bans = shareAuthFailures(worker.server.defence.banList, peers);
      const { limits } = worker.server.defence;
      const counts = [
        ...(limits.limited ? [shareCounts('connections', limits.connections, peers)] : []),
        ...(worker.server.sessionCounts ? [shareCounts('sessions', worker.server.sessionCounts, peers)] : []),
      ];
      const observability = await startObservability(worker.server, workerLogger);
      return {
        close: async () => {
          await worker.server.close({ drainMs: options.shutdownTimeoutMs });
          await observability.close();
          await worker.afterClose?.();
        },
        reload: worker.reload,
        onPeerMessage: (message) => {
          bans(message);
          for (const count of counts) count.onPeerMessage(message);
        },
        onPeerExit: (peer) => {
          for (const count of counts) count.onPeerExit(peer);
        },
      };
    }, { workers: options.workers, shared: [] });
  }
  const hostKeys = loadHostKeys(options.hostKeyFiles, options.stateDir);
  const announce = spec.prepare(hostKeys);
  const code = await serveWithWorkers<string[]>(() => Promise.reject(new Error('unreachable in the primary')), {
    workers: options.workers,
    shared: hostKeys.map((key) => key.toString('base64')),
    // Workers drain for --shutdown-timeout; killed only if they hang past it.
    stopTimeoutMs: options.shutdownTimeoutMs + 5_000,
    reloads: spec.reloads,
    logger,
    onListening: ({ address, port }) => {
      logger.info(`${options.workers} worker processes`);
      announce(formatListenAddress(address, port));
    },
  });
  logger.info('stopped');
  return code;
}
