import { createRequire } from 'node:module';
import pino from 'pino';
import type PinoPretty from 'pino-pretty';
import { createStderrLogger, type Logger, type LogLevel } from '../logger.js';

/**
 * How log lines look:
 * - `json`: one pino JSON object per line (for log shippers);
 * - `text`: one plain line per message, `time LEVEL message {details}`;
 * - `pretty`: pino-pretty's coloured, multi-line layout (for a person at a terminal).
 */
export type LogFormat = 'json' | 'text' | 'pretty';

export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text', 'pretty'];

/** `pretty` when stderr is a terminal, `json` otherwise (a service manager, a pipe, a file). */
export function defaultLogFormat(stream: { isTTY?: boolean } = process.stderr): LogFormat {
  return stream.isTTY ? 'pretty' : 'json';
}

export interface CreateLoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where `json` and `pretty` lines go (tests); default stderr, as always for `text` (stdout may carry SFTP, with --stdio). */
  destination?: NodeJS.WritableStream;
}

/**
 * The CLI's logger in the chosen format, always on stderr. Writes are
 * synchronous so that the last lines before an exit are not lost.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  if (options.format === 'text') return createStderrLogger(options.level);
  const destination =
    options.format === 'pretty'
      ? loadPretty()({ destination: options.destination ?? 2, sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' })
      : (options.destination ?? pino.destination({ fd: 2, sync: true }));
  return fromPino(pino({ level: options.level, base: undefined, serializers: { error: pino.stdSerializers.err } }, destination));
}

/** pino-pretty, loaded only for a person at a terminal: it is most of the logger's start-up time, which --stdio pays per login. */
function loadPretty(): typeof PinoPretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
}

/**
 * Adapts a pino logger to our {@link Logger}: `logger.info(message, details)`
 * becomes `pino.info(details, message)`, with an `error` detail serialised
 * as pino serialises `err` (name, message, stack). Pass your own pino
 * instance to route the library's logs into your application's.
 */
export function fromPino(logger: pino.Logger): Logger {
  const forward = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, details?: Record<string, unknown>) => {
    if (!logger.isLevelEnabled(level)) return;
    if (details === undefined) logger[level](message);
    else logger[level](details, message);
  };
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}
