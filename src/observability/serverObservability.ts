import type { Logger } from '../logger.js';
import { AccessLog } from './accessLog.js';
import type { ServerMetrics } from './metrics.js';
import { serveMetrics, type MetricsEndpoint } from './metricsServer.js';

export interface ServerObservabilityOptions {
  accessLog: boolean;
  /** Where to serve `/metrics`; undefined: no metrics. */
  metricsAddress?: { host: string; port: number };
}

/** The access log and metrics of one running server; close() stops both. */
export interface ServerObservability {
  metrics?: ServerMetrics;
  endpoint?: MetricsEndpoint;
  close(): Promise<void>;
}

/** Starts the access log and metrics for one server (see prepareServerObservability). */
export type StartServerObservability = (server: object, logger: Logger) => Promise<ServerObservability>;

/**
 * Loads what `options` ask for and returns the function that starts the CLI's
 * access log and metrics for a server. prom-client, some 15 MiB of a
 * process's memory, is loaded only when metrics are served; so call this
 * before the server listens. The returned function makes its subscriptions
 * before its first await, so that no session that starts after the call is
 * missed; the metrics endpoint then listens.
 */
export async function prepareServerObservability(options: ServerObservabilityOptions): Promise<StartServerObservability> {
  const metricsAddress = options.metricsAddress;
  const { ServerMetrics } = metricsAddress ? await import('./metrics.js') : {};
  return async (server, logger) => {
    const accessLog = options.accessLog ? new AccessLog(logger, { server }) : undefined;
    const metrics = ServerMetrics && new ServerMetrics({ server, processMetrics: true });
    let endpoint: MetricsEndpoint | undefined;
    const close = async () => {
      accessLog?.close();
      metrics?.close();
      await endpoint?.close();
    };
    if (metrics && metricsAddress) {
      const { host, port } = metricsAddress;
      try {
        endpoint = await serveMetrics(metrics.registry, host, port);
      } catch (error) {
        await close();
        throw new Error(`cannot serve metrics on ${host}:${port}: ${(error as Error).message}`);
      }
      const { address, port: bound } = endpoint.address;
      logger.info(`metrics on http://${address.includes(':') ? `[${address}]` : address}:${bound}/metrics`);
    }
    return { metrics, endpoint, close };
  };
}
