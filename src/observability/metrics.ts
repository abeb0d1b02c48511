import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { StatusCode } from '../sftp/protocol/constants.js';
import {
  authChannel,
  banChannel,
  dataRequestChannel,
  requestChannel,
  sessionEndChannel,
  sessionStartChannel,
  subscribe,
  type AuthEvent,
  type BanEvent,
  type RequestEvent,
  type SessionEndEvent,
  type SessionStartEvent,
} from './events.js';

export interface ServerMetricsOptions {
  /** Count only this server's events (default: every server in the process). */
  server?: object;
  /** Where the metrics are registered (default: a registry of their own). */
  registry?: Registry;
  /** Also Node's process metrics (CPU, memory, event loop lag, GC). Default false. */
  processMetrics?: boolean;
}

/** Status label values: the SFTP status names (`OK`, `NO_SUCH_FILE`...). */
const statusNames: Record<number, string> = Object.fromEntries(Object.entries(StatusCode).map(([name, code]) => [code, name]));

/** Latency buckets in seconds: from a cached stat (sub-millisecond) to a slow backend's close (seconds). */
const durationBuckets = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Prometheus metrics of SFTP servers, fed by the `sftp-expose:*` diagnostics
 * channels (so they cost nothing until created). Names are listed in
 * docs/operations.md. Call {@link close} to stop counting.
 */
export class ServerMetrics {
  readonly registry: Registry;
  private readonly unsubscribes: Array<() => void>;

  constructor(options: ServerMetricsOptions = {}) {
    const registry = (this.registry = options.registry ?? new Registry());
    if (options.processMetrics) collectDefaultMetrics({ register: registry });
    const registers = [registry];
    const activeSessions = new Gauge({ name: 'sftp_expose_sessions_active', help: 'SFTP sessions in progress', registers });
    const sessions = new Counter({ name: 'sftp_expose_sessions_total', help: 'SFTP sessions started', registers });
    const auth = new Counter({ name: 'sftp_expose_auth_attempts_total', help: 'Authentication requests decided, by method and result (success, partial, failure)', labelNames: ['method', 'result'], registers });
    const bans = new Counter({ name: 'sftp_expose_bans_total', help: 'Client addresses banned after failed authentications', registers });
    const received = new Counter({ name: 'sftp_expose_received_bytes_total', help: 'File data bytes written by clients (WRITE requests that succeeded)', registers });
    const sent = new Counter({ name: 'sftp_expose_sent_bytes_total', help: 'File data bytes read by clients (READ replies)', registers });
    const operations = new Counter({ name: 'sftp_expose_operations_total', help: 'SFTP requests answered, by operation and reply status', labelNames: ['operation', 'status'], registers });
    const durations = new Histogram({
      name: 'sftp_expose_operation_duration_seconds',
      help: 'Time from dispatching an SFTP request to queuing its reply, by operation and reply status',
      labelNames: ['operation', 'status'],
      buckets: durationBuckets,
      registers,
    });

    const ours = (server: object | undefined) => options.server === undefined || server === options.server;
    this.unsubscribes = [
      subscribe<SessionStartEvent>(sessionStartChannel, ({ session }) => {
        if (!ours(session.server)) return;
        sessions.inc();
        activeSessions.inc();
      }),
      subscribe<SessionEndEvent>(sessionEndChannel, ({ session }) => {
        if (ours(session.server)) activeSessions.dec();
      }),
      subscribe<AuthEvent>(authChannel, (event) => {
        if (ours(event.server)) auth.inc({ method: event.method, result: event.result });
      }),
      subscribe<BanEvent>(banChannel, (event) => {
        if (ours(event.server)) bans.inc();
      }),
      ...[requestChannel, dataRequestChannel].map((channel) =>
        subscribe<RequestEvent>(channel, (event) => {
          if (!ours(event.session.server)) return;
          const labels = { operation: event.op, status: statusNames[event.status] ?? String(event.status) };
          operations.inc(labels);
          durations.observe(labels, event.durationMs / 1000);
          if (event.bytes === 0) return;
          if (event.op === 'read') sent.inc(event.bytes);
          else if (event.op === 'write') received.inc(event.bytes);
        }),
      ),
    ];
  }

  /** The metrics in Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops counting (the values stay readable). */
  close(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }
}
