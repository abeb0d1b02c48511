import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FS } from '../../fs/FS.js';
import { IsADirectory } from '../../fs/errors.js';
import { hashRange } from '../../fs/hashRange.js';
import type { HashAlgorithm } from '../../fs/types.js';
import { quoteName } from './quoteName.js';
import { errorText, type ExecCommand } from './types.js';

/**
 * `md5sum`, `sha1sum`... as coreutils behaves for what clients send: each
 * operand (a path, or `-` for stdin) gives one `HASH  NAME` line with the name
 * as given; no operand hashes stdin. rclone sends `md5sum` with no operand
 * and an empty stdin to learn whether hashes work, then `md5sum <path>`.
 * A file that cannot be hashed is reported on stderr, the others still are,
 * and the status is 1.
 */
export function hashsumCommand(name: string, algorithm: HashAlgorithm): ExecCommand {
  return async (args, context) => {
    const operands: string[] = [];
    let optionsEnded = false;
    for (const arg of args) {
      if (!optionsEnded && arg === '--') optionsEnded = true;
      else if (!optionsEnded && arg.startsWith('-') && arg !== '-') {
        context.stderr.write(`${name}: unsupported option '${arg}'\n`);
        return 1;
      } else operands.push(arg);
    }
    if (operands.length === 0) operands.push('-');

    let status = 0;
    for (const operand of operands) {
      try {
        const digest = operand === '-' ? await hashStream(context.stdin, algorithm) : await hashFile(context.fs, context.resolve(operand), algorithm);
        context.stdout.write(hashLine(digest, operand));
      } catch (error) {
        context.stderr.write(`${name}: ${quoteName(operand)}: ${errorText(error)}\n`);
        status = 1;
      }
    }
    return status;
  };
}

/**
 * A coreutils output line. A name with a backslash, newline or carriage
 * return is escaped and the line starts with a backslash, so one line is
 * always one file (rclone strips that leading backslash too).
 */
export function hashLine(digest: Buffer, name: string): string {
  const needsEscape = /[\\\n\r]/.test(name);
  if (!needsEscape) return `${digest.toString('hex')}  ${name}\n`;
  const escaped = name.replace(/[\\\n\r]/g, (char) => (char === '\\' ? '\\\\' : char === '\n' ? '\\n' : '\\r'));
  return `\\${digest.toString('hex')}  ${escaped}\n`;
}

async function hashFile(fs: FS, path: string, algorithm: HashAlgorithm): Promise<Buffer> {
  // Checked first so a directory gets coreutils' message whatever the backend's hash would say.
  const stats = await fs.stat(path);
  if (stats.type === 'directory') throw new IsADirectory(path);
  if (fs.hash) return fs.hash(path, algorithm, 0, 0);
  return hashByReading(fs, path, algorithm);
}

/** Reads the file through the FS's own handles, for backends without `hash`. */
async function hashByReading(fs: FS, path: string, algorithm: HashAlgorithm): Promise<Buffer> {
  const handle = await fs.open(path, { read: true, write: false, append: false, create: false, truncate: false, exclusive: false });
  try {
    return await hashRange(handle, algorithm, 0, 0);
  } finally {
    await handle.close();
  }
}

/**
 * Hashes what arrives until EOF. Listeners rather than async iteration:
 * iterating would destroy the stream at the end, and the stream is the
 * channel the output still has to go out on.
 */
function hashStream(stream: Readable, algorithm: HashAlgorithm): Promise<Buffer> {
  const hash = createHash(algorithm);
  if (stream.readableEnded) return Promise.resolve(hash.digest());
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => hash.update(chunk);
    const cleanup = () => {
      stream.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onError);
      stream.pause();
    };
    const onEnd = () => {
      cleanup();
      resolve(hash.digest());
    };
    const onClose = () => {
      cleanup();
      reject(new Error('input closed before its end'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    stream.on('data', onData).once('end', onEnd).once('close', onClose).once('error', onError);
    stream.resume();
  });
}
