import { parseArgs } from 'node:util';

/** Server names the bench knows, in the order they run within a round. */
export const SERVER_NAMES = ['openssh', 'rclone', 'sftp-expose'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

/** Workload ids; see bench/workloads.ts for what each one does. */
/** S3: sftp-expose over S3FS against the AWS SDK on a local S3 server (bench/s3Workload.ts). */
export const WORKLOAD_IDS = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7', 'W8', 'W9', 'IDLE', 'S3'] as const;
export type WorkloadId = (typeof WORKLOAD_IDS)[number];

/** Everything a bench run is parameterised by. Sizes are bytes. */
export interface BenchOptions {
  rounds: number;
  /** Rounds of the small-file workloads (W3, W4, W5), whose single runs swing most. */
  smallRounds: number;
  /** Untimed rounds of each small-file workload before its measured ones (reported apart, not in the medians). */
  warmUpRounds: number;
  /** W1/W2/W8/S3 file size. */
  size: number;
  /** W3/W4: number of small files and the size of each. */
  files: number;
  fileSize: number;
  /** W5: entries in the listed directory. */
  entries: number;
  /** W6: concurrent clients and the size of each one's file. */
  clients: number;
  clientSize: number;
  /** IDLE: sessions held open at once. */
  idleSessions: number;
  /** sftp-expose worker processes (Node cluster); 1 = no cluster. */
  workers: number;
  only: WorkloadId[];
  servers: ServerName[];
  json?: string;
  /** S3: run sftp-expose as bench/s3Server.ts over the built library, or as the built CLI (`serve s3://`); both from dist/. */
  s3Server: 'library' | 'cli';
  /** Keep the temp directory (data, keys, configs) for inspection. */
  keep: boolean;
  quick: boolean;
}

const FULL = { size: '1G', files: '2000', fileSize: '4K', entries: '10000', clients: '16', clientSize: '64M', idle: '200' };
const QUICK = { size: '64M', files: '200', fileSize: '4K', entries: '1000', clients: '16', clientSize: '4M', idle: '50' };

export const USAGE = `npm run bench -- [flags]
  --quick                small sizes (fits in about a minute)
  --rounds N             rounds per workload; medians are reported (default 3)
  --small-rounds N       rounds of W3, W4 and W5, the small-file workloads, whose
                         single runs swing most (default: 7, or --rounds if more;
                         quick: --rounds)
  --warm-up-rounds N     untimed rounds of W3, W4 and W5 on every server before
                         the measured ones; reported apart, not in the medians
                         (default 1, quick 0)
  --size S               W1/W2/W8/S3 file size, e.g. 1G, 256M (default 1G, quick 64M)
  --files N              W3/W4 file count (default 2000, quick 200)
  --file-size S          W3/W4 file size (default 4K)
  --entries N            W5 directory entries (default 10000, quick 1000)
  --clients N            W6 concurrent clients (default 16)
  --client-size S        W6 file per client (default 64M, quick 4M)
  --idle N               IDLE: sessions held open (default 200, quick 50)
  --workers N            sftp-expose worker processes (Node cluster, default 1)
  --only W1,W3           workloads to run (W1..W9, IDLE, S3; default all)
  --servers a,b          openssh,rclone,sftp-expose (default all installed)
  --json FILE            also write the results as JSON
  --s3-server library|cli S3: sftp-expose as bench/s3Server.ts over the built library (default) or the built CLI
  --keep                 keep the temp directory`;

/** Parses `1G`, `64M`, `4K`, `4096` (binary units). */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMGT]?)i?B?$/i.exec(text.trim());
  if (!match) throw new Error(`not a size: ${text}`);
  const units: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
  return Math.round(Number(match[1]) * units[match[2]!.toUpperCase()]!);
}

function parseCount(name: string, text: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got ${text}`);
  return value;
}

function parseList<T extends string>(name: string, text: string, known: readonly T[]): T[] {
  const items = text.split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    if (!known.includes(item as T)) throw new Error(`--${name}: unknown ${item} (known: ${known.join(', ')})`);
  }
  return items as T[];
}

/** Reads the command line; throws with a message naming the bad flag. */
export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '3' },
      'small-rounds': { type: 'string' },
      'warm-up-rounds': { type: 'string' },
      size: { type: 'string' },
      files: { type: 'string' },
      'file-size': { type: 'string' },
      entries: { type: 'string' },
      clients: { type: 'string' },
      'client-size': { type: 'string' },
      idle: { type: 'string' },
      workers: { type: 'string', default: '1' },
      only: { type: 'string' },
      servers: { type: 'string' },
      json: { type: 'string' },
      keep: { type: 'boolean', default: false },
      's3-server': { type: 'string', default: 'library' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const preset = values.quick ? QUICK : FULL;
  const rounds = parseCount('rounds', values.rounds);
  return {
    quick: values.quick,
    rounds,
    smallRounds: values['small-rounds'] !== undefined ? parseCount('small-rounds', values['small-rounds']) : values.quick ? rounds : Math.max(rounds, 7),
    warmUpRounds: values['warm-up-rounds'] !== undefined ? parseCount('warm-up-rounds', values['warm-up-rounds'], 0) : values.quick ? 0 : 1,
    size: parseSize(values.size ?? preset.size),
    files: parseCount('files', values.files ?? preset.files),
    fileSize: parseSize(values['file-size'] ?? preset.fileSize),
    entries: parseCount('entries', values.entries ?? preset.entries),
    clients: parseCount('clients', values.clients ?? preset.clients),
    clientSize: parseSize(values['client-size'] ?? preset.clientSize),
    idleSessions: parseCount('idle', values.idle ?? preset.idle),
    workers: parseCount('workers', values.workers),
    only: values.only ? parseList('only', values.only.toUpperCase(), WORKLOAD_IDS) : [...WORKLOAD_IDS],
    servers: values.servers ? parseList('servers', values.servers, SERVER_NAMES) : [...SERVER_NAMES],
    json: values.json,
    s3Server: parseList('s3-server', values['s3-server'], ['library', 'cli'] as const)[0] ?? 'library',
    keep: values.keep,
  };
}
