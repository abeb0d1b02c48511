import { posix } from 'node:path';
import type { FS } from '../../fs/FS.js';
import type { Stats } from '../../fs/types.js';
import { StreamReader } from './streamReader.js';
import { errorText, type ExecCommand, type ExecContext } from './types.js';

/** Bytes read from the filesystem per chunk sent. */
const CHUNK = 256 * 1024;
const OK = Buffer.from([0]);

/** The conversation cannot go on (a malformed line, the client gave up): ends the command. */
class ScpFatal extends Error {}

interface ScpOptions {
  recursive: boolean;
  preserve: boolean;
  targetIsDirectory: boolean;
}

interface Times {
  mtime: number;
  atime: number;
}

/**
 * The remote end of the classic SCP protocol (`scp -O`, and every scp before
 * OpenSSH 9.0, which run `scp -t TARGET` to upload and `scp -f PATH...` to
 * download), on the user's filesystem. Control lines (`C` file, `D`/`E`
 * directory, `T` times) are answered with a 0 byte, or 1 and a message for
 * an error the copy survives. Exit status 0 when every file was copied.
 */
export const scpCommand: ExecCommand = async (args, context) => {
  const options: ScpOptions = { recursive: false, preserve: false, targetIsDirectory: false };
  let mode: 'sink' | 'source' | undefined;
  let index = 0;
  for (; index < args.length && args[index]!.startsWith('-'); index++) {
    const arg = args[index]!;
    if (arg === '--') {
      index++;
      break;
    }
    for (const flag of arg.slice(1)) {
      if (flag === 't' || flag === 'f') mode = flag === 't' ? 'sink' : 'source';
      else if (flag === 'r') options.recursive = true;
      else if (flag === 'p') options.preserve = true;
      else if (flag === 'd') options.targetIsDirectory = true;
      else if (flag !== 'v' && flag !== 'q') {
        context.stderr.write(`scp: unsupported option -${flag}\n`);
        return 1;
      }
    }
  }
  const paths = args.slice(index);
  if (mode === undefined || paths.length === 0 || (mode === 'sink' && paths.length !== 1)) {
    context.stderr.write('scp: only the remote end of a copy is served here (scp -t TARGET or scp -f PATH...)\n');
    return 1;
  }
  const reader = new StreamReader(context.stdin);
  const conversation = new Conversation(context, reader, options);
  try {
    return mode === 'sink' ? await conversation.sink(context.resolve(paths[0]!)) : await conversation.source(paths);
  } catch (error) {
    if (!(error instanceof ScpFatal)) throw error;
    context.stderr.write(`scp: ${error.message}\n`);
    return 1;
  } finally {
    reader.detach();
  }
};

class Conversation {
  private failed = false;

  constructor(
    private readonly context: ExecContext,
    private readonly reader: StreamReader,
    private readonly options: ScpOptions,
  ) {}

  private get fs(): FS {
    return this.context.fs;
  }

  /** An error the copy goes on after (a file that cannot be written or read): reported to the client, status 1. */
  private warn(path: string, error: unknown): void {
    this.failed = true;
    this.context.stdout.write(`\x01scp: ${path}: ${errorText(error)}\n`);
  }

  /** Upload: receives files and directories into `target`. */
  async sink(target: string): Promise<number> {
    const targetIsDir = await this.isDirectory(target);
    if (this.options.targetIsDirectory && !targetIsDir) {
      this.warn(target, new Error('Not a directory'));
      return 1;
    }
    this.context.stdout.write(OK);
    let times: Times | undefined;
    for (;;) {
      const line = await this.reader.line();
      if (line === undefined || line === 'E') break;
      // The client's own errors (a file it could not read): 1 goes on, 2 ends the copy.
      if (line.startsWith('\x02')) throw new ScpFatal(line.slice(1));
      if (line.startsWith('\x01')) {
        this.failed = true;
        continue;
      }
      if (line.startsWith('T')) {
        times = parseTimes(line);
        this.context.stdout.write(OK);
        continue;
      }
      const { kind, mode, size, name } = parseEntry(line);
      const path = targetIsDir ? posix.join(target, name) : target;
      if (kind === 'D') {
        if (!this.options.recursive) throw new ScpFatal('received a directory without -r');
        await this.receiveDirectory(path, mode, times);
      } else {
        await this.receiveFile(path, mode, size, times);
      }
      times = undefined;
    }
    return this.failed ? 1 : 0;
  }

  /** A `D` line: the directory is made (writable by us while it fills), then filled by a nested sink, which ends at its `E`. */
  private async receiveDirectory(path: string, mode: number, times: Times | undefined): Promise<void> {
    try {
      if (!(await this.isDirectory(path))) await this.fs.mkdir(path, { permissions: mode | 0o700 });
    } catch (error) {
      return this.warn(path, error); // the client then skips this directory
    }
    await this.sink(path);
    this.context.stdout.write(OK); // the answer to its `E`
    // After its contents, which would move its mtime again; past the point where the client listens for errors.
    await this.applyAttributes(path, mode, times).catch((error: unknown) => {
      this.failed = true;
      this.context.stderr.write(`scp: ${path}: ${errorText(error)}\n`);
    });
  }

  /** A `C` line: the client sends the data only after our 0, then a status byte of its own. */
  private async receiveFile(path: string, mode: number, size: number, times: Times | undefined): Promise<void> {
    let handle;
    try {
      handle = await this.fs.open(path, { read: false, write: true, append: false, create: true, truncate: true, exclusive: false }, { permissions: mode });
    } catch (error) {
      return this.warn(path, error); // the client then sends no data for it
    }
    this.context.stdout.write(OK);
    let failure: unknown;
    let offset = 0;
    try {
      // Read to its end even after a failed write: the data is on its way whatever happens to it here.
      for await (const chunk of this.reader.bytes(size)) {
        if (failure === undefined) await handle.write(offset, chunk).catch((error: unknown) => (failure = error));
        offset += chunk.length;
      }
    } catch (error) {
      // The client stopped sending: a backend that can drops the partial file (as for an SFTP upload cut short).
      await (handle.abort ? handle.abort() : handle.close()).catch(() => {});
      throw error;
    }
    await handle.close().catch((error: unknown) => (failure ??= error));
    // The client's word on its own read of the file (a 1 counts as a failure); ours follows either way, as it waits for it.
    await this.response();
    if (failure === undefined) await this.applyAttributes(path, mode, times).catch((error: unknown) => (failure = error));
    if (failure !== undefined) this.warn(path, failure);
    else this.context.stdout.write(OK);
  }

  /** -p: the mode and times the client sent, once the file or directory is complete. */
  private async applyAttributes(path: string, mode: number, times: Times | undefined): Promise<void> {
    if (!this.options.preserve) return;
    await this.fs.setstat(path, { permissions: mode, ...(times ?? {}) });
  }

  /** Download: sends each path (and with -r, directories and what is in them). */
  async source(paths: string[]): Promise<number> {
    await this.response();
    for (const given of paths) {
      const path = this.context.resolve(given);
      let stats: Stats;
      try {
        stats = await this.fs.stat(path);
      } catch (error) {
        this.warn(given, error);
        continue;
      }
      await this.send(path, stats);
    }
    return this.failed ? 1 : 0;
  }

  private async send(path: string, stats: Stats): Promise<void> {
    const name = posix.basename(path) || '/';
    if (stats.type === 'directory' && !this.options.recursive) return this.warn(path, new Error('not a regular file'));
    if (stats.type !== 'directory' && stats.type !== 'file') return this.warn(path, new Error('not a regular file'));
    if (this.options.preserve) {
      this.context.stdout.write(`T${Math.floor(stats.mtime)} 0 ${Math.floor(stats.atime)} 0\n`);
      if (!(await this.response())) return;
    }
    const mode = (stats.permissions & 0o7777).toString(8).padStart(4, '0');
    if (stats.type === 'directory') {
      this.context.stdout.write(`D${mode} 0 ${name}\n`);
      if (!(await this.response())) return;
      for await (const entry of this.fs.listdir(path)) {
        if (entry.name === '.' || entry.name === '..') continue;
        const child = posix.join(path, entry.name);
        const childStats = entry.stats.type === 'symlink' ? await this.fs.stat(child).catch(() => entry.stats) : entry.stats;
        await this.send(child, childStats);
      }
      this.context.stdout.write('E\n');
      await this.response();
      return;
    }
    await this.sendFile(path, name, mode, stats.size);
  }

  private async sendFile(path: string, name: string, mode: string, size: number): Promise<void> {
    let handle;
    try {
      handle = await this.fs.open(path, { read: true, write: false, append: false, create: false, truncate: false, exclusive: false });
    } catch (error) {
      return this.warn(path, error);
    }
    try {
      this.context.stdout.write(`C${mode} ${size} ${name}\n`);
      if (!(await this.response())) return;
      // Exactly the size announced: after a failed read, or a file that shrank meanwhile, the rest is
      // zeros (the client counts bytes, not lines), as OpenSSH's scp does, and the file is reported.
      let failure: unknown;
      for (let offset = 0; offset < size; ) {
        const wanted = Math.min(CHUNK, size - offset);
        let data: Buffer = Buffer.alloc(0);
        if (failure === undefined) {
          try {
            data = await handle.read(offset, wanted);
            if (data.length === 0) failure = new Error('file shrank while it was sent');
          } catch (error) {
            failure = error;
          }
        }
        if (data.length === 0) data = Buffer.alloc(wanted);
        offset += data.length;
        if (!this.context.stdout.write(data)) await new Promise((resolve) => this.context.stdout.once('drain', resolve));
      }
      if (failure !== undefined) this.warn(path, failure);
      else this.context.stdout.write(OK);
      await this.response();
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /** The client's answer to what was sent: true for 0; false (after noting it) for an error it reports; a fatal one ends the command. */
  private async response(): Promise<boolean> {
    const code = await this.reader.byte();
    if (code === 0) return true;
    if (code === undefined) throw new ScpFatal('the client went away');
    const message = (await this.reader.line()) ?? '';
    if (code === 1) {
      this.failed = true;
      return false;
    }
    throw new ScpFatal(message);
  }

  private async isDirectory(path: string): Promise<boolean> {
    try {
      return (await this.fs.stat(path)).type === 'directory';
    } catch {
      return false;
    }
  }
}

/** `T<mtime> <usec> <atime> <usec>` */
function parseTimes(line: string): Times {
  const match = /^T(\d+) \d+ (\d+) \d+$/.exec(line);
  if (!match) throw new ScpFatal(`malformed times line: ${JSON.stringify(line)}`);
  return { mtime: Number(match[1]), atime: Number(match[2]) };
}

/** `C<mode> <size> <name>` or `D<mode> 0 <name>`; names are single path components (as OpenSSH's scp insists). */
function parseEntry(line: string): { kind: 'C' | 'D'; mode: number; size: number; name: string } {
  const match = /^([CD])([0-7]{4}) (\d+) (.+)$/.exec(line);
  if (!match) throw new ScpFatal(`expected a file or directory line, got ${JSON.stringify(line)}`);
  const name = match[4]!;
  if (name.includes('/') || name === '..' || name === '.') throw new ScpFatal(`unexpected filename: ${name}`);
  const size = Number(match[3]);
  if (!Number.isSafeInteger(size)) throw new ScpFatal(`bad size: ${match[3]}`);
  return { kind: match[1] as 'C' | 'D', mode: parseInt(match[2]!, 8), size, name };
}
