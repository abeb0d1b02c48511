import type { Logger } from '../logger.js';
import { AccessLog } from './accessLog.js';
import { ServerMetrics } from './metrics.js';
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

/**
 * Starts the CLI's access log and metrics for `server`. The subscriptions
 * are made before the first await, so that no session that starts after
 * this call is missed; the metrics endpoint then listens.
 */
export async function startServerObservability(server: object, logger: Logger, options: ServerObservabilityOptions): Promise<ServerObservability> {
  const accessLog = options.accessLog ? new AccessLog(logger, { server }) : undefined;
  const metrics = options.metricsAddress ? new ServerMetrics({ server, processMetrics: true }) : undefined;
  let endpoint: MetricsEndpoint | undefined;
  const close = async () => {
    accessLog?.close();
    metrics?.close();
    await endpoint?.close();
  };
  if (metrics && options.metricsAddress) {
    const { host, port } = options.metricsAddress;
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
}
