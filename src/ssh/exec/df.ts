import type { StatVFS } from '../../fs/types.js';
import { quoteName } from './quoteName.js';
import { errorText, type ExecCommand } from './types.js';

/** The device name in the first column: there is no device behind an exposed FS. */
const SOURCE_NAME = 'sftp-expose';
/** df's unit with -k and -P (and GNU df's default). */
const KIBIBYTE = 1024;

/** One df row in 1K blocks; `percent` is undefined when it cannot be computed (df prints `-`). */
export interface DfRow {
  source: string;
  size: number;
  used: number;
  available: number;
  percent?: number;
  mountedOn: string;
}

/**
 * `df [-k] [-P] [PATH...]`, answered from the FS's `statvfs` in GNU df's
 * table layout (what rclone's `about` parses when the SFTP statvfs extension
 * is not there: the second line's size, used and available columns). Every
 * path gets a row for the one filesystem, mounted at `/`; no path gives one
 * row for the home directory's filesystem.
 */
export const dfCommand: ExecCommand = async (args, context) => {
  let posix = false;
  const operands: string[] = [];
  let optionsEnded = false;
  for (const arg of args) {
    if (!optionsEnded && arg === '--') optionsEnded = true;
    else if (!optionsEnded && /^-[kP]+$/.test(arg)) posix ||= arg.includes('P');
    else if (!optionsEnded && arg.startsWith('-') && arg !== '-') {
      context.stderr.write(`df: unsupported option '${arg}' (supported: -k -P)\n`);
      return 1;
    } else operands.push(arg);
  }
  const statvfs = context.fs.statvfs?.bind(context.fs);
  if (!statvfs) {
    context.stderr.write('df: this filesystem does not report its size\n');
    return 1;
  }

  const rows: DfRow[] = [];
  let status = 0;
  for (const operand of operands.length > 0 ? operands : [undefined]) {
    try {
      const path = context.resolve(operand ?? '');
      // statvfs of some backends ignores the path: make a missing one fail as df does.
      await context.fs.stat(path);
      rows.push(dfRow(await statvfs(path)));
    } catch (error) {
      context.stderr.write(`df: ${quoteName(operand ?? '.')}: ${errorText(error)}\n`);
      status = 1;
    }
  }
  if (rows.length > 0) context.stdout.write(formatDfTable(rows, posix));
  return status;
};

/** Converts statvfs counts to 1K blocks the way GNU df does (rounding up; Use% = used / (used + available), rounded up). */
export function dfRow(vfs: StatVFS, mountedOn = '/'): DfRow {
  const unit = vfs.fragmentSize || vfs.blockSize;
  const usedBlocks = Math.max(0, vfs.blocks - vfs.blocksFree);
  const toKiB = (blocks: number) => Math.ceil((blocks * unit) / KIBIBYTE);
  const nonRootTotal = usedBlocks + vfs.blocksAvailable;
  const percent = nonRootTotal > 0 ? Math.ceil((usedBlocks * 100) / nonRootTotal) : undefined;
  return { source: SOURCE_NAME, size: toKiB(vfs.blocks), used: toKiB(usedBlocks), available: toKiB(vfs.blocksAvailable), percent, mountedOn };
}

/**
 * GNU df's layout: a column is as wide as its widest cell (at least 14 for
 * the source, 5 for numbers, 4 for the percentage), text left-aligned,
 * numbers right-aligned, one space between columns, the last one unpadded.
 */
export function formatDfTable(rows: readonly DfRow[], posix = false): string {
  const header = ['Filesystem', posix ? '1024-blocks' : '1K-blocks', 'Used', 'Available', posix ? 'Capacity' : 'Use%', 'Mounted on'];
  const cells = rows.map((row) => [
    row.source,
    String(row.size),
    String(row.used),
    String(row.available),
    row.percent === undefined ? '-' : `${row.percent}%`,
    row.mountedOn,
  ]);
  const minimumWidths = [14, 5, 5, 5, 4, 0];
  const widths = minimumWidths.map((minimum, column) => Math.max(minimum, ...[header, ...cells].map((line) => line[column]!.length)));
  const render = (line: string[]) =>
    line
      .map((cell, column) => {
        if (column === line.length - 1) return cell;
        return column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!);
      })
      .join(' ') + '\n';
  return [header, ...cells].map(render).join('');
}
