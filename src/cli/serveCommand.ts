import type { FS } from '../fs/FS.js';
import { ReadOnlyFS } from '../fs/wrappers/readonly.js';
import { LocalFS } from '../backends/local.js';
import { serveStdio } from '../sftp/stdio.js';
import type { Logger } from '../logger.js';
import { AccessLog } from '../observability/accessLog.js';
import { subscribe, syncCallsChannel, type SyncCallsEvent } from '../observability/events.js';
import { createLogger } from '../observability/pinoLogger.js';
import { describeBackends } from './backendUrl.js';
import { openServedBackend } from './mountTable.js';
import { SERVE_USAGE, parseServeOptions, type ServeOptions } from './serveOptions.js';

/** Runs `sftp-expose serve ...` until SIGINT/SIGTERM; resolves with the exit code. */
export async function runServe(args: string[]): Promise<number> {
  const options = parseServeOptions(args);
  if (options === 'help') {
    process.stdout.write(`${SERVE_USAGE}\n\n${describeBackends()}\n`);
    return 0;
  }
  const logger = createLogger({ level: options.logLevel, format: options.logFormat });
  logSyncCallSwitches(logger);
  if (options.stdio) return runStdio(options, logger);
  // Loaded only here: sshd starts one --stdio process per login, which needs no SSH, metrics or config parser.
  return (await import('./serveTcp.js')).runTcp(options, logger);
}

/** A local backend's synchronous fs calls turned off or on is worth a line: it changes every request's cost. */
function logSyncCallSwitches(logger: Logger): void {
  subscribe<SyncCallsEvent>(syncCallsChannel, ({ calls, enabled, timesTurnedOff }) => {
    if (enabled) logger.info(`synchronous ${calls} calls back on: the storage answers fast again`);
    else logger.warn(`synchronous ${calls} calls off (time ${timesTurnedOff}): the storage answered slowly, calls go through the threadpool until it is fast again`);
  });
}

/**
 * One session over stdin/stdout. sshd (or whoever started us) authenticated
 * the user and set the working directory to their home: with a local backend
 * that contains it, relative paths start there, as with OpenSSH's sftp-server.
 */
async function runStdio(options: ServeOptions, logger: Logger): Promise<number> {
  const backend = await openServedBackend(options, logger);
  const fs: FS = options.readOnly ? new ReadOnlyFS(backend) : backend;
  const home = backend instanceof LocalFS ? backend.pathOfHost(process.cwd()) : undefined;
  const accessLog = options.accessLog ? new AccessLog(logger) : undefined;
  try {
    return (await serveStdio(fs, { home, logger })).exitStatus;
  } finally {
    accessLog?.close();
    await fs.close();
  }
}
