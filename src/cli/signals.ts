import type { Logger } from '../logger.js';
import type { CloseOptions } from '../ssh/BaseSFTPServer.js';

/** What the signal handlers act on. */
export interface SignalTarget {
  /** Stops the server; `drainMs` lets transfers in progress finish first. */
  close(options: CloseOptions): Promise<void>;
  /** Re-reads users and keys (SIGHUP); absent: SIGHUP logs that there is nothing to reload. */
  reload?: () => void | Promise<void>;
}

export interface SignalOptions {
  /** How long SIGTERM/SIGINT let transfers in progress run before sessions are ended. */
  shutdownTimeoutMs: number;
  /** Runs after the server has closed (the backend's close, the metrics endpoint's...). */
  afterClose?: () => Promise<void>;
}

/**
 * Serves until SIGTERM or SIGINT, then shuts down gracefully: stop accepting,
 * let open files finish for up to `shutdownTimeoutMs`, end what is left.
 * A second SIGTERM/SIGINT exits at once (status 1). SIGHUP reloads without
 * stopping, as sshd does. Resolves once stopped.
 */
export function serveUntilSignal(target: SignalTarget, logger: Logger, options: SignalOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const onReload = () => {
      if (!target.reload) {
        logger.info('SIGHUP: nothing to reload (no configuration file)');
        return;
      }
      logger.info('SIGHUP: reloading');
      Promise.resolve()
        .then(() => target.reload!())
        .catch((error: unknown) => logger.error('reload failed, keeping the previous configuration', { error }));
    };
    const onStop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn(`${signal} again: exiting without waiting for sessions`);
        process.exit(1);
      }
      stopping = true;
      logger.info(`${signal}: closing connections`, { shutdownTimeoutMs: options.shutdownTimeoutMs });
      target
        .close({ drainMs: options.shutdownTimeoutMs })
        .then(() => options.afterClose?.())
        .then(() => {
          process.off('SIGHUP', onReload);
          logger.info('stopped');
          resolve();
        }, reject);
    };
    process.on('SIGINT', onStop);
    process.on('SIGTERM', onStop);
    process.on('SIGHUP', onReload);
  });
}
