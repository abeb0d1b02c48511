import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { hashPassword, PASSWORD_ALGORITHMS, type PasswordAlgorithm } from '../server/auth/passwordHash.js';
import { UsageError } from './serveOptions.js';

export const HASH_PASSWORD_USAGE = `Usage: sftp-expose hash-password [--algorithm scrypt|bcrypt|argon2]

Reads a password and prints its hash, for passwordHash in a config file
(see docs/configuration.md). On a terminal the password is asked twice
without echo; otherwise the first line of stdin is read (so
'printf %s "$PW" | sftp-expose hash-password' works in scripts).

Flags:
      --algorithm string   scrypt (default), bcrypt or argon2 (argon2id)
  -h, --help               Show this help`;

/** Reads one line from stdin (the password), without the line ending. */
async function readLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** Asks on the terminal with echo off; the question goes to stderr so stdout holds only the hash. */
function askHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    // readline echoes what is typed through _writeToOutput; write only the question.
    const internal = rl as unknown as { _writeToOutput(text: string): void };
    let asked = false;
    internal._writeToOutput = (text: string) => {
      if (!asked) {
        asked = true;
        process.stderr.write(text);
      }
    };
    rl.question(question, (answer) => {
      process.stderr.write('\n');
      rl.close();
      resolve(answer);
    });
  });
}

/** Runs `sftp-expose hash-password`: prints a hash of the password read; resolves with the exit code. */
export async function runHashPassword(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { algorithm: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false }));
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!, 'hash-password');
  }
  if (values.help) {
    process.stdout.write(`${HASH_PASSWORD_USAGE}\n`);
    return 0;
  }
  const algorithm = (values.algorithm ?? 'scrypt') as PasswordAlgorithm;
  if (!PASSWORD_ALGORITHMS.includes(algorithm)) throw new UsageError(`invalid --algorithm "${values.algorithm}": expected ${PASSWORD_ALGORITHMS.join(', ')}`, 'hash-password');
  let password: string;
  if (process.stdin.isTTY) {
    password = await askHidden('Password: ');
    if ((await askHidden('Again: ')) !== password) {
      process.stderr.write('sftp-expose: the passwords differ\n');
      return 1;
    }
  } else password = await readLine();
  if (password === '') throw new UsageError('empty password', 'hash-password');
  process.stdout.write(`${await hashPassword(password, algorithm)}\n`);
  return 0;
}
