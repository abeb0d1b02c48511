import { readFileSync } from 'node:fs';
import type { FS } from '../fs/FS.js';
import type { Logger } from '../logger.js';
import { normalizePath } from '../fs/path.js';
import { MountFS } from '../fs/wrappers/mount.js';
import { ReadOnlyFS } from '../fs/wrappers/readonly.js';
import { openBackend, type BackendContext } from './backendUrl.js';
import { UsageError, type ServeOptions } from './serveOptions.js';

/** One mount as the file gives it, validated. */
export interface MountEntry {
  point: string;
  backend: string;
  readOnly: boolean;
}

/**
 * Parses a mount table: a JSON object whose keys are mount points (absolute
 * paths) and whose values are BACKEND strings, or objects
 * `{ "backend": BACKEND, "readOnly": true }`:
 *
 * ```json
 * { "/uploads": "webdav+https://dav.example.com/in", "/reports": { "backend": "./reports", "readOnly": true } }
 * ```
 *
 * Every problem is a UsageError naming the file and the entry.
 */
export function parseMountTable(text: string, file: string): MountEntry[] {
  let table: unknown;
  try {
    table = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`mount table ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new UsageError(`mount table ${file} must be a JSON object of "/mount/point": "BACKEND"`);
  }
  const entries: MountEntry[] = [];
  const seen = new Map<string, string>();
  for (const [point, value] of Object.entries(table)) {
    const where = `mount table ${file}, entry "${point}"`;
    if (!point.startsWith('/')) throw new UsageError(`${where}: a mount point must be an absolute path such as "/uploads"`);
    if (point.includes('\0')) throw new UsageError(`${where}: a mount point must not contain a NUL byte`);
    const normal = normalizePath(point);
    if (seen.has(normal)) throw new UsageError(`${where}: the same mount point as entry "${seen.get(normal)}"`);
    seen.set(normal, point);
    entries.push({ point: normal, ...mountValue(value, where) });
  }
  if (entries.length === 0) throw new UsageError(`mount table ${file} has no entries`);
  return entries;
}

function mountValue(value: unknown, where: string): { backend: string; readOnly: boolean } {
  if (typeof value === 'string') {
    if (value === '') throw new UsageError(`${where}: the BACKEND is empty`);
    return { backend: value, readOnly: false };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${where}: expected a BACKEND string or { "backend": "...", "readOnly": true }`);
  }
  const unknownKeys = Object.keys(value).filter((key) => key !== 'backend' && key !== 'readOnly');
  if (unknownKeys.length > 0) throw new UsageError(`${where}: unknown key ${unknownKeys.map((key) => `"${key}"`).join(', ')} (known: "backend", "readOnly")`);
  const { backend, readOnly } = value as { backend?: unknown; readOnly?: unknown };
  if (typeof backend !== 'string' || backend === '') throw new UsageError(`${where}: "backend" must be a non-empty BACKEND string`);
  if (readOnly !== undefined && typeof readOnly !== 'boolean') throw new UsageError(`${where}: "readOnly" must be true or false`);
  return { backend, readOnly: readOnly ?? false };
}

/**
 * Reads and opens a mount table file: every BACKEND is opened as the CLI
 * opens one (same schemes, same flags), then composed into a MountFS. A
 * backend that fails to open closes the ones already opened and names its entry.
 */
export async function openMountTable(file: string, context: BackendContext): Promise<MountFS> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read mount table ${file}: ${(error as Error).message}`);
  }
  const opened = new Map<string, FS>();
  try {
    for (const entry of parseMountTable(text, file)) {
      let fs: FS;
      try {
        fs = await openBackend(entry.backend, context);
      } catch (error) {
        const message = `mount table ${file}, entry "${entry.point}": ${(error as Error).message}`;
        throw error instanceof UsageError ? new UsageError(message) : new Error(message);
      }
      opened.set(entry.point, entry.readOnly ? new ReadOnlyFS(fs) : fs);
      context.logger.info(`mounted ${entry.backend} at ${entry.point}${entry.readOnly ? ' (read-only)' : ''}`);
    }
  } catch (error) {
    await Promise.allSettled([...opened.values()].map((fs) => fs.close()));
    throw error;
  }
  return new MountFS(opened);
}

/** The FS behind the server: a mount table (--mounts) or the one BACKEND. */
export function openServedBackend(options: ServeOptions, logger: Logger): Promise<FS> {
  const context = { logger, flags: options.backendFlags };
  return options.mountsFile !== undefined ? openMountTable(options.mountsFile, context) : openBackend(options.backend, context);
}
