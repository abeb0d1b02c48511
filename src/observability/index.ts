export * from './events.js';
export { AccessLog, handleRecord, requestRecord, type AccessLogOptions, type AccessRecord } from './accessLog.js';
export { ServerMetrics, type ServerMetricsOptions } from './metrics.js';
export { serveMetrics, type MetricsEndpoint } from './metricsServer.js';
export { createLogger, defaultLogFormat, fromPino, LOG_FORMATS, type CreateLoggerOptions, type LogFormat } from './pinoLogger.js';
