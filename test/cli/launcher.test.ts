/**
 * How the CLI's processes are started: run as a program (as npm's bin link
 * runs it), the file's launcher lines start node with the server's options
 * (src/cluster/serverNodeFlags.ts), and `--workers` forks workers with them
 * even when the primary was started without. Read from /proc (Linux).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SERVER_NODE_FLAGS } from '../../src/cluster/serverNodeFlags.js';
import { childrenOf, commandLineOf } from '../helpers/processes.js';
import { waitFor } from '../helpers/waitFor.js';
import { connectSSH2, makeClientKey, makeTempDir, startServe } from './cliProcess.js';

describe('the CLI launcher', () => {
  let home: Awaited<ReturnType<typeof makeTempDir>>;
  let data: string;
  let identity: string;

  before(async () => {
    home = await makeTempDir('sftp-expose-launcher-');
    data = join(home.path, 'data');
    await mkdir(data);
    await writeFile(join(data, 'hello.txt'), 'hello\n');
    identity = makeClientKey(home.path);
  });
  after(() => home.cleanup());

  it('run as a program, is node with the server options, serving', async () => {
    const server = await startServe([data, '--authorized-keys', `${identity}.pub`], home.path, 'program');
    try {
      const argv = commandLineOf(server.pid);
      assert.equal(basename(argv[0]!), 'node', `the shell replaced itself with node: ${argv.join(' ')}`);
      for (const flag of SERVER_NODE_FLAGS) assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
      const connection = await connectSSH2({ port: server.port, username: 'u', privateKey: readFileSync(identity) });
      try {
        const sftp = await connection.sftp();
        const names = await new Promise<string[]>((resolve, reject) =>
          sftp.readdir('/', (error, list) => (error ? reject(error) : resolve(list.map((entry) => entry.filename)))),
        );
        assert.deepEqual(names, ['hello.txt']);
      } finally {
        connection.end();
      }
    } finally {
      await server.stop();
    }
  });

  it('--workers forks workers with the server options when node was started without them', async () => {
    const server = await startServe([data, '--workers', '2', '--authorized-keys', `${identity}.pub`], home.path);
    try {
      assert.ok(!commandLineOf(server.pid).some((arg) => SERVER_NODE_FLAGS.includes(arg)), 'the primary runs without them');
      await waitFor(() => childrenOf(server.pid).length === 2, 'two workers');
      for (const worker of childrenOf(server.pid)) {
        const argv = commandLineOf(worker);
        for (const flag of SERVER_NODE_FLAGS) assert.ok(argv.includes(flag), `worker ${worker}: ${flag} in ${argv.join(' ')}`);
      }
    } finally {
      await server.stop();
    }
  });
});
