import type { Logger } from '../logger.js';
import { prepareServerObservability } from '../observability/serverObservability.js';
import { AuthProxy } from '../server/auth/authProxy.js';
import { loadConfig, parseConfig, type ServerConfig } from '../server/config/loadConfig.js';
import { userBackendSpecs } from '../server/config/userBackends.js';
import { MultiUserServer } from '../server/MultiUserServer.js';
import { loadHostKeys } from '../ssh/hostKeys.js';
import { openBackend } from './backendUrl.js';
import { runCluster } from './serveCluster.js';
import { serveUntilSignal } from './signals.js';
import { UsageError, formatListenAddress, type ServeOptions } from './serveOptions.js';

/**
 * `serve --config FILE` and/or `--auth-proxy PROGRAM`: a MultiUserServer whose
 * users' BACKEND strings open through the CLI's own table (with the command
 * line's backend flags), re-reading the config on SIGHUP; with `--workers N`,
 * one such server in each of N worker processes.
 */
export async function runMultiUser(options: ServeOptions, logger: Logger): Promise<number> {
  if (options.workers > 1) return runMultiUserWorkers(options, logger);
  const config = loadUsers(options);
  const hostKeys = loadHostKeys(options.hostKeyFiles, options.stateDir);
  const startObservability = await prepareServerObservability({ accessLog: options.accessLog, metricsAddress: options.metricsAddress });
  const { server, address } = await listenMultiUser(options, logger, hostKeys, config);

  let observability;
  try {
    observability = await startObservability(server, logger);
  } catch (error) {
    await server.close();
    throw error;
  }
  const stopped = serveUntilSignal(
    {
      close: (closeOptions) => server.close(closeOptions),
      reload: options.configFile !== undefined ? () => server.reload(loadUsers(options)) : undefined,
    },
    logger,
    { shutdownTimeoutMs: options.shutdownTimeoutMs, afterClose: () => observability.close() },
  );
  // Once the signal handlers are in place: a script that waits for "listening on" and then sends SIGTERM gets a graceful stop.
  logStartup(logger, options, config, address);
  await stopped;
  return 0;
}

/** The users: the config file's, or none when an auth proxy alone decides. */
function loadUsers(options: ServeOptions): ServerConfig {
  return options.configFile !== undefined ? loadConfig(options.configFile) : parseConfig({ users: {} }, '(no config file)');
}

/** A MultiUserServer listening on the command line's address: the whole server, or one worker's. */
async function listenMultiUser(options: ServeOptions, logger: Logger, hostKeys: Buffer[], config: ServerConfig): Promise<{ server: MultiUserServer; address: string }> {
  const server = new MultiUserServer({
    config,
    authProxy: options.authProxy !== undefined ? new AuthProxy({ command: options.authProxy, logger }) : undefined,
    hostKeys,
    logger,
    defence: options.defence,
    openBackend: ({ spec, flags }) => openBackend(spec, { logger, flags: { ...options.backendFlags, ...flags } }),
  });
  const { host, port } = options.address;
  try {
    const bound = await server.listen(port, host);
    return { server, address: formatListenAddress(bound.address, bound.port) };
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'address already in use' : (error as Error).message;
    throw new Error(`cannot listen on ${formatListenAddress(host, port)}: ${reason}`);
  }
}

/**
 * `--workers N` with `--config`/`--auth-proxy` (see runCluster): each worker
 * reads the config itself and runs its own MultiUserServer, and reloads it on
 * SIGHUP. Failed logins, connections and each user's sessions are counted
 * across the workers (see runCluster).
 */
function runMultiUserWorkers(options: ServeOptions, logger: Logger): Promise<number> {
  return runCluster(options, logger, {
    listen: async (workerLogger, hostKeys) => {
      const { server } = await listenMultiUser(options, workerLogger, hostKeys, loadUsers(options));
      const reload = async () => {
        try {
          server.reload(loadUsers(options));
        } catch (error) {
          workerLogger.error('reload failed, keeping the previous configuration', { error });
        }
      };
      return { server, reload: options.configFile !== undefined ? reload : undefined };
    },
    prepare: () => {
      // Once, in the primary: a bad file stops the start before any worker runs.
      const config = loadUsers(options);
      refuseMemoryBackends(config);
      return (address) => logStartup(logger, options, config, address);
    },
    reloads: options.configFile !== undefined,
  });
}

/** As `--workers` with a memory: BACKEND (see parseWorkers): each worker would hold its own copy of the user's files. */
function refuseMemoryBackends(config: ServerConfig): void {
  for (const user of config.users.values()) {
    if (userBackendSpecs(user).some((spec) => spec.startsWith('memory:'))) {
      throw new UsageError(`--workers with user ${user.name} served from memory: would give each worker its own in-memory filesystem (a file uploaded in one session would be missing in the next); serve a folder or another shared backend`);
    }
  }
}

function logStartup(logger: Logger, options: ServeOptions, config: ServerConfig, address: string): void {
  if (options.configFile !== undefined) logger.info(`serving ${config.users.size} user(s) from ${options.configFile}`);
  if (options.authProxy !== undefined) logger.info(`auth proxy: ${options.authProxy} (for users the config does not list)`);
  logger.info(`listening on ${address}`);
}
