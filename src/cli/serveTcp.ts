import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import type { FS } from '../fs/FS.js';
import { ReadOnlyFS } from '../fs/wrappers/readonly.js';
import type { Logger } from '../logger.js';
import { prepareServerObservability, type StartServerObservability } from '../observability/serverObservability.js';
import { fingerprint, parseAuthorizedKeys, type PublicKey } from '../ssh/auth.js';
import { loadHostKeys } from '../ssh/hostKeys.js';
import { needsFSPerSession } from './backendUrl.js';
import { CLIServer } from './CLIServer.js';
import { openServedBackend } from './mountTable.js';
import { runCluster } from './serveCluster.js';
import { serveUntilSignal } from './signals.js';
import { UsageError, formatListenAddress, type ServeOptions } from './serveOptions.js';

/** `sftp-expose serve` on TCP: one user set from flags, several from --config, or a cluster with --workers. */
export async function runTcp(options: ServeOptions, logger: Logger): Promise<number> {
  // Loaded only for these flags: the config parser and argon2 are some 15 MiB of a process's memory.
  if (options.configFile !== undefined || options.authProxy !== undefined) return (await import('./multiUserCommand.js')).runMultiUser(options, logger);
  if (options.workers > 1) return runWorkers(options, logger);
  const hostKeys = loadHostKeys(options.hostKeyFiles, options.stateDir);
  const startObservability = await prepareServerObservability({ accessLog: options.accessLog, metricsAddress: options.metricsAddress });
  const { server, fs, address } = await listenTcp(options, logger, hostKeys);
  await stopOnSignal(server, fs, logger, options, startObservability, () => logStartup(logger, options, server, hostKeys, address));
  return 0;
}

/** Opens the backend and listens on TCP: the whole server, or one worker of a cluster. */
async function listenTcp(options: ServeOptions, logger: Logger, hostKeys: Buffer[]): Promise<{ server: CLIServer; fs: FS; address: string }> {
  const authorizedKeys = readAuthorizedKeys(options.authorizedKeysFile, logger);
  const openServed = async () => {
    const backend = await openServedBackend(options, logger);
    return options.readOnly ? new ReadOnlyFS(backend) : backend;
  };
  // Opened now even when sessions get their own: a bad backend stops the start, not each login.
  const fs: FS = await openServed();
  const perSession = options.mountsFile === undefined && needsFSPerSession(options.backend);
  if (perSession) await fs.close(); // it was opened only to check the backend

  let server: CLIServer;
  try {
    server = new CLIServer(
      { user: options.user, password: options.password, authorizedKeys, noAuth: options.noAuth },
      { fs, hostKeys, logger, defence: options.defence },
      perSession ? openServed : undefined,
    );
  } catch (error) {
    await fs.close();
    throw error;
  }

  // The transport: TCP (see runStdio in serveCommand.ts for stdin/stdout).
  const { host, port } = options.address;
  let bound;
  try {
    bound = await server.listen(port, host);
  } catch (error) {
    await fs.close();
    const reason = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'address already in use' : (error as Error).message;
    throw new Error(`cannot listen on ${formatListenAddress(host, port)}: ${reason}`);
  }
  return { server, fs, address: formatListenAddress(bound.address, bound.port) };
}

/**
 * `--workers N` (see runCluster): each worker runs {@link listenTcp}. The
 * primary checks the auth rules and logs the start-up lines.
 */
function runWorkers(options: ServeOptions, logger: Logger): Promise<number> {
  return runCluster(options, logger, {
    listen: async (workerLogger, hostKeys) => {
      const { server, fs } = await listenTcp(options, workerLogger, hostKeys);
      return { server, afterClose: () => fs.close() };
    },
    prepare: (hostKeys) => {
      // Built only to check the rules (NoAuthenticationConfigured) and name the methods; it never listens.
      const rules = new CLIServer({ user: options.user, password: options.password, authorizedKeys: readAuthorizedKeys(options.authorizedKeysFile, logger), noAuth: options.noAuth }, { hostKeys });
      return (address) => logStartup(logger, options, rules, hostKeys, address);
    },
    reloads: false,
  });
}

function readAuthorizedKeys(file: string | undefined, logger: Logger): PublicKey[] {
  if (file === undefined) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read authorized keys file ${file}: ${(error as Error).message}`);
  }
  const keys = parseAuthorizedKeys(text);
  if (keys.length === 0) logger.warn(`no usable key in authorized keys file ${file}`);
  else logger.debug(`accepting ${keys.length} key(s) from ${file}`);
  return keys;
}

/** The `algorithm SHA256:...` lines a client's first-connection prompt can be checked against. */
function hostKeyFingerprints(hostKeys: Buffer[]): string[] {
  return hostKeys.map((text) => {
    const parsed = ssh2.utils.parseKey(text);
    if (parsed instanceof Error) throw parsed;
    const key = Array.isArray(parsed) ? parsed[0]! : parsed;
    return `${key.type} ${fingerprint({ algorithm: key.type, data: key.getPublicSSH() })}`;
  });
}

function logStartup(logger: Logger, options: ServeOptions, server: CLIServer, hostKeys: Buffer[], address: string): void {
  const what = options.mountsFile !== undefined ? `mount table ${options.mountsFile}` : options.backend === undefined || options.backend === 'memory:' ? 'memory:' : options.backend;
  logger.info(`serving ${what}${options.readOnly ? ' (read-only)' : ''}`);
  for (const line of hostKeyFingerprints(hostKeys)) logger.info(`host key ${line}`);
  logger.info(`authentication: ${server.authMethods.join(', ')}`);
  if (options.noAuth) logger.warn('--no-auth: anyone who can reach this address can log in');
  // Last, and in a fixed form, so scripts and tests can wait for it and read the port.
  logger.info(`listening on ${address}`);
}

/**
 * Runs the access log and metrics until a SIGINT/SIGTERM has stopped the
 * server gracefully (see serveUntilSignal); SIGHUP reloads what can be reloaded.
 * `announce` logs the start-up lines once the signal handlers are in place,
 * so that a script that waits for "listening on" and then sends SIGTERM gets
 * a graceful stop rather than the default kill.
 */
async function stopOnSignal(server: CLIServer, fs: FS, logger: Logger, options: ServeOptions, startObservability: StartServerObservability, announce: () => void): Promise<void> {
  let observability;
  try {
    observability = await startObservability(server, logger);
  } catch (error) {
    await server.close();
    await fs.close();
    throw error;
  }
  const { close } = observability;
  const stopped = serveUntilSignal(server, logger, {
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    afterClose: async () => {
      await close();
      await fs.close();
    },
  });
  announce();
  await stopped;
}
