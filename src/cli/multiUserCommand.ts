import type { Logger } from '../logger.js';
import { prepareServerObservability } from '../observability/serverObservability.js';
import { AuthProxy } from '../server/auth/authProxy.js';
import { loadConfig, parseConfig, type ServerConfig } from '../server/config/loadConfig.js';
import { MultiUserServer } from '../server/MultiUserServer.js';
import { loadHostKeys } from '../ssh/hostKeys.js';
import { openBackend } from './backendUrl.js';
import { serveUntilSignal } from './signals.js';
import { formatListenAddress, type ServeOptions } from './serveOptions.js';

/**
 * `serve --config FILE` and/or `--auth-proxy PROGRAM`: a MultiUserServer whose
 * users' BACKEND strings open through the CLI's own table (with the command
 * line's backend flags), re-reading the config on SIGHUP.
 */
export async function runMultiUser(options: ServeOptions, logger: Logger): Promise<number> {
  const load = (): ServerConfig => (options.configFile !== undefined ? loadConfig(options.configFile) : parseConfig({ users: {} }, '(no config file)'));
  const config = load();
  const hostKeys = loadHostKeys(options.hostKeyFiles, options.stateDir);
  const authProxy = options.authProxy !== undefined ? new AuthProxy({ command: options.authProxy, logger }) : undefined;
  const startObservability = await prepareServerObservability({ accessLog: options.accessLog, metricsAddress: options.metricsAddress });
  const server = new MultiUserServer({
    config,
    authProxy,
    hostKeys,
    logger,
    defence: options.defence,
    openBackend: ({ spec, flags }) => openBackend(spec, { logger, flags: { ...options.backendFlags, ...flags } }),
  });
  const { host, port } = options.address;
  let bound;
  try {
    bound = await server.listen(port, host);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'address already in use' : (error as Error).message;
    throw new Error(`cannot listen on ${formatListenAddress(host, port)}: ${reason}`);
  }

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
      reload: options.configFile !== undefined ? () => server.reload(load()) : undefined,
    },
    logger,
    { shutdownTimeoutMs: options.shutdownTimeoutMs, afterClose: () => observability.close() },
  );
  // Once the signal handlers are in place: a script that waits for "listening on" and then sends SIGTERM gets a graceful stop.
  if (options.configFile !== undefined) logger.info(`serving ${config.users.size} user(s) from ${options.configFile}`);
  if (authProxy) logger.info(`auth proxy: ${options.authProxy} (for users the config does not list)`);
  logger.info(`listening on ${formatListenAddress(bound.address, bound.port)}`);
  await stopped;
  return 0;
}
