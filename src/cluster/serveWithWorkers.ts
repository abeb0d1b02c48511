import cluster, { type Worker } from 'node:cluster';
import { silentLogger, type Logger } from '../logger.js';
import { withServerNodeFlags } from './serverNodeFlags.js';

/** What a worker runs: something listening that can be closed gracefully, and perhaps reloaded. */
export interface WorkerServer {
  close(): Promise<void>;
  /** Re-reads users and keys on SIGHUP; reports its own failures (a failed reload keeps the running server). */
  reload?(): Promise<void>;
  /** A message another worker sent with {@link WorkerPeers.send}. */
  onPeerMessage?(message: unknown): void;
  /** Another worker exited (its `WorkerPeers.id`): what it had reported is no longer so. */
  onPeerExit?(peer: number): void;
}

/**
 * How a worker tells the other workers something (a failed login, a
 * connection or session opened or closed: so that bans and limits count
 * across workers): through the primary, which passes each message
 * on to every other worker that is running. Messages must survive JSON; a
 * worker that starts later does not get the earlier ones (it can ask its
 * peers for what it needs, as src/cluster/sharedCounts.ts does).
 */
export interface WorkerPeers {
  /** This worker among its peers (its pid), for messages that say whose they are. */
  readonly id: number;
  send(message: unknown): void;
}

export interface ServeWithWorkersOptions<Shared> {
  /** Worker processes to run (at least 1). */
  workers: number;
  /**
   * Data the primary computes once and every worker receives (host keys, so
   * that a key generated on first start is the same in all workers). Sent over
   * the IPC channel, so it must survive JSON: strings, numbers, plain objects.
   */
  shared: Shared;
  /** Crashed workers replaced within any `restartWindowMs`, at most; one more stops everything. Default 5. */
  maxRestarts?: number;
  /** Default 60 s. */
  restartWindowMs?: number;
  /** How long workers get to close their sessions after a signal before they are killed. Default 10 s. */
  stopTimeoutMs?: number;
  /** Called in the primary once every worker listens, with the port they share. */
  onListening?(address: { address: string; port: number }): void;
  /** The workers reload on SIGHUP (their WorkerServer has `reload`): the primary passes it on. Otherwise it logs that there is nothing to reload. */
  reloads?: boolean;
  logger?: Logger;
}

interface SharedMessage<Shared> {
  sftpExposeShared: Shared;
}

interface PeerMessage {
  sftpExposePeer: unknown;
}

/** From the primary: the worker with this pid has exited. */
interface PeerExitMessage {
  sftpExposePeerExited: number;
}

const isPeerMessage = (message: unknown): message is PeerMessage => typeof message === 'object' && message !== null && 'sftpExposePeer' in message;
const isPeerExitMessage = (message: unknown): message is PeerExitMessage =>
  typeof message === 'object' && message !== null && typeof (message as Partial<PeerExitMessage>).sftpExposePeerExited === 'number';

/**
 * Runs a server on several cores with Node's cluster module: the calling
 * process becomes the primary and forks `workers` copies of itself (same
 * script, same arguments); each worker calls `startWorker(shared)`, which
 * listens as a single-process server would. The primary holds the listening
 * socket and hands accepted connections to the workers in turn (cluster's
 * round-robin), so SSH sessions spread over the workers; each session then
 * lives in one worker.
 *
 * The same function is called in the primary and in each worker; it resolves
 * with the process's exit code once everything has stopped:
 * - SIGTERM/SIGINT to the primary are forwarded to the workers as SIGTERM;
 *   each closes its server (ending its sessions) and exits; workers still
 *   running after `stopTimeoutMs` are killed. A second signal kills at once.
 * - SIGHUP to the primary is passed on to the workers, which reload; it
 *   never stops the cluster (as a single process, see serveUntilSignal).
 * - A worker that crashes after it started listening is replaced, at most
 *   `maxRestarts` times per `restartWindowMs`; one that fails before it
 *   listened (bad backend, port taken) stops the whole cluster with code 1,
 *   since a replacement would fail the same way.
 * - A worker whose primary disappears exits too.
 */
export function serveWithWorkers<Shared>(startWorker: (shared: Shared, peers: WorkerPeers) => Promise<WorkerServer>, options: ServeWithWorkersOptions<Shared>): Promise<number> {
  return cluster.isPrimary ? runPrimary(options) : runWorker(startWorker);
}

function runPrimary<Shared>(options: ServeWithWorkersOptions<Shared>): Promise<number> {
  const logger = options.logger ?? silentLogger;
  const maxRestarts = options.maxRestarts ?? 5;
  const restartWindowMs = options.restartWindowMs ?? 60_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const listening = new Set<Worker>();
  const restarts: number[] = [];
  let announced = false;
  let stopping = false;
  let exitCode = 0;

  // Workers run the same script with the primary's node options, plus the server's own when the primary was started without them.
  cluster.setupPrimary({ execArgv: withServerNodeFlags(process.execArgv) });
  return new Promise<number>((resolve) => {
    const fork = () => {
      const worker = cluster.fork();
      // Sent when the worker asks: a message that arrives before the worker listens for it is dropped.
      worker.on('message', (message: { sftpExposeWantsShared?: boolean }) => {
        if (message?.sftpExposeWantsShared) worker.send({ sftpExposeShared: options.shared } satisfies SharedMessage<Shared>);
        if (isPeerMessage(message)) for (const other of living()) if (other !== worker) tell(other, message);
      });
      return worker;
    };
    const living = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    // A worker may be exiting as it is told: its channel then fails (EPIPE), which must not be an uncaught 'error'.
    const tell = (worker: Worker, message: PeerMessage | PeerExitMessage) => {
      if (worker.isConnected()) worker.send(message, () => {});
    };
    const finishIfDone = () => {
      if (stopping && living().length === 0) {
        clearTimeout(killTimer);
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        process.off('SIGHUP', onReload);
        cluster.off('listening', onListening);
        cluster.off('exit', onExit);
        resolve(exitCode);
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (code: number) => {
      if (stopping) return;
      stopping = true;
      exitCode = code;
      // process.kill rather than worker.kill: the latter disconnects first, and a worker's graceful close needs no IPC.
      for (const worker of living()) worker.process.kill('SIGTERM');
      killTimer = setTimeout(() => {
        logger.warn(`workers still running after ${stopTimeoutMs} ms: killing them`);
        for (const worker of living()) worker.process.kill('SIGKILL');
      }, stopTimeoutMs);
      killTimer.unref();
      finishIfDone();
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn(`${signal} again: killing the workers`);
        for (const worker of living()) worker.process.kill('SIGKILL');
        exitCode = 1;
        return;
      }
      logger.info(`${signal}: stopping ${living().length} worker(s)`);
      stop(0);
    };
    const onReload = () => {
      if (!options.reloads) {
        logger.info('SIGHUP: nothing to reload (no configuration file)');
        return;
      }
      logger.info(`SIGHUP: reloading ${living().length} worker(s)`);
      for (const worker of living()) worker.process.kill('SIGHUP');
    };
    const onListening = (worker: Worker, address: { address: string | null; port: number }) => {
      listening.add(worker);
      if (announced) logger.info(`worker ${worker.process.pid} listening`);
      if (!announced && listening.size === options.workers) {
        announced = true;
        // null when listening on every interface.
        options.onListening?.({ address: address.address ?? '', port: address.port });
      }
    };
    const onExit = (worker: Worker, code: number | null, signal: string | null) => {
      const started = listening.delete(worker);
      if (stopping) return finishIfDone();
      for (const other of living()) if (other !== worker) tell(other, { sftpExposePeerExited: worker.process.pid! });
      const how = signal ?? `code ${code}`;
      if (!started) {
        logger.error(`worker ${worker.process.pid} exited (${how}) before it listened: stopping`);
        return stop(1);
      }
      const now = Date.now();
      while (restarts.length > 0 && restarts[0]! <= now - restartWindowMs) restarts.shift();
      if (restarts.length >= maxRestarts) {
        logger.error(`worker ${worker.process.pid} exited (${how}); ${restarts.length} restarts within ${restartWindowMs} ms already: stopping`);
        return stop(1);
      }
      restarts.push(now);
      const replacement = fork();
      logger.warn(`worker ${worker.process.pid} exited (${how}): replaced by worker ${replacement.process.pid}`);
    };
    cluster.on('listening', onListening);
    cluster.on('exit', onExit);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', onReload);
    for (let i = 0; i < options.workers; i++) fork();
  });
}

function runWorker<Shared>(startWorker: (shared: Shared, peers: WorkerPeers) => Promise<WorkerServer>): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let server: WorkerServer | undefined;
    let stopping = false;
    const peers: WorkerPeers = { id: process.pid, send: (message) => void (process.connected && process.send!({ sftpExposePeer: message } satisfies PeerMessage)) };
    /** Peers' news that arrives while this worker's server starts (answers to what it asked as it started): given to it once it has. */
    const early: Array<PeerMessage | PeerExitMessage> = [];
    const deliver = (to: WorkerServer, message: PeerMessage | PeerExitMessage) => {
      if (isPeerMessage(message)) to.onPeerMessage?.(message.sftpExposePeer);
      else to.onPeerExit?.(message.sftpExposePeerExited);
    };
    const onPeerMessage = (message: unknown) => {
      if (!isPeerMessage(message) && !isPeerExitMessage(message)) return;
      if (server) deliver(server, message);
      else early.push(message);
    };
    const stop = () => {
      if (stopping) return;
      stopping = true;
      // A 'message' listener keeps the IPC channel, and so the process, alive.
      process.off('message', onPeerMessage);
      // A terminal's Ctrl-C reaches the workers directly as well as through the primary: one close is enough.
      if (!server) return resolve(0);
      server.close().then(() => resolve(0), reject);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    // From the primary, or from a terminal's hangup to the whole group: reload, never the default exit.
    process.on('SIGHUP', () => void server?.reload?.());
    // The primary killed without a chance to stop us: no orphans keep the port's sessions.
    process.once('disconnect', stop);
    const onMessage = (message: SharedMessage<Shared>) => {
      if (!message || !('sftpExposeShared' in message)) return;
      process.off('message', onMessage);
      if (stopping) return;
      startWorker(message.sftpExposeShared, peers).then((started) => {
        server = started;
        for (const news of early.splice(0)) deliver(started, news);
        if (stopping) started.close().then(() => resolve(0), reject);
      }, reject);
    };
    process.on('message', onMessage);
    process.on('message', onPeerMessage);
    process.send!({ sftpExposeWantsShared: true });
  });
}

/** A logger whose lines say which worker wrote them, so sessions can be traced to a process. */
export function withWorkerPid(logger: Logger): Logger {
  const tag = `[worker ${process.pid}] `;
  return {
    debug: (message, details) => logger.debug(tag + message, details),
    info: (message, details) => logger.info(tag + message, details),
    warn: (message, details) => logger.warn(tag + message, details),
    error: (message, details) => logger.error(tag + message, details),
  };
}
