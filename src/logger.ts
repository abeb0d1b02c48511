/** The logging surface every layer uses; pino, console or a test spy all fit it. */
export interface Logger {
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const levels: LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** A logger writing one line per message to stderr (stdout may carry SFTP in --stdio mode). */
export function createStderrLogger(level: LogLevel = 'info'): Logger {
  const threshold = levels.indexOf(level);
  const write = (lineLevel: LogLevel) => (message: string, details?: Record<string, unknown>) => {
    if (levels.indexOf(lineLevel) < threshold) return;
    const extra = details && Object.keys(details).length > 0 ? ' ' + JSON.stringify(details, errorReplacer) : '';
    process.stderr.write(`${new Date().toISOString()} ${lineLevel.toUpperCase()} ${message}${extra}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
}

/** A logger that drops everything (library default: embedders opt in to logs). */
export const silentLogger: Logger = createStderrLogger('silent');
