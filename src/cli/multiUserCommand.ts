import type { Logger } from '../logger.js';
import { startServerObservability } from '../observability/serverObservability.js';
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
  if (options.configFile !== undefined) logger.info(`serving ${config.users.size} user(s) from ${options.configFile}`);
  if (authProxy) logger.info(`auth proxy: ${options.authProxy} (for users the config does not list)`);
  logger.info(`listening on ${formatListenAddress(bound.address, bound.port)}`);

  let observability;
  try {
    observability = await startServerObservability(server, logger, { accessLog: options.accessLog, metricsAddress: options.metricsAddress });
  } catch (error) {
    await server.close();
    throw error;
  }
  await serveUntilSignal(
    {
      close: (closeOptions) => server.close(closeOptions),
      reload: options.configFile !== undefined ? () => server.reload(load()) : undefined,
    },
    logger,
    { shutdownTimeoutMs: options.shutdownTimeoutMs, afterClose: () => observability.close() },
  );
  return 0;
}
