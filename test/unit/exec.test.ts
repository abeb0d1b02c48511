import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type ssh2 from 'ssh2';
import { LocalFS } from '../../src/backends/local.js';
import { MemoryFS } from '../../src/backends/memory.js';
import type { FS } from '../../src/fs/FS.js';
import { formatDfTable, parseShellWords, ShellSyntaxError, type ExecCommands } from '../../src/ssh/exec.js';
import type { BaseSFTPServerOptions } from '../../src/ssh/BaseSFTPServer.js';
import { clientKey } from '../helpers/keys.js';
import { connectClient, endClient } from '../helpers/ssh2Client.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, TEST_USER, TestSFTPServer, type TestServer } from '../helpers/testServer.js';

/**
 * How rclone's sftp backend (backend/sftp/sftp.go, quoteOrEscapeShellPath for
 * shell type unix) quotes a path: a backslash before every byte outside its
 * safe set, a newline wrapped in single quotes. Written here from its
 * documented behaviour, as the input our parser must invert.
 */
function rcloneEscape(path: string): string {
  return path.replace(/[^A-Za-z0-9_.,:/@\u{80}-\u{10FFFF}\n-]/gu, '\\$&').replace(/\n/g, "'\n'");
}

interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one exec request on a real ssh2 Client, sending `stdin` then EOF. */
function execRemote(client: ssh2.Client, command: string, stdin: string | Buffer = ''): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) return reject(error);
      const stdout: Buffer[] = [];
      let stderr = '';
      let code: number | null = null;
      stream.on('data', (chunk: Buffer) => stdout.push(chunk));
      stream.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      stream.on('exit', (status: number | null) => (code = status));
      stream.on('close', () => resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr }));
      stream.end(stdin);
    });
  });
}

/** Runs the local coreutils program the same way (`cwd` plays the server's home). */
function execLocal(cwd: string, program: string, args: string[], stdin: string | Buffer = ''): ExecResult {
  const result = spawnSync(program, args, { cwd, input: stdin, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Opens a session channel and asks for a shell without a pty, as `ssh -T host` does. */
function shellRemote(client: ssh2.Client): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.shell(false, (error, stream) => {
      if (error) return reject(error);
      let stderr = '';
      let stdout = '';
      let code: number | null = null;
      stream.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      stream.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      stream.on('exit', (status: number | null) => (code = status));
      stream.on('close', () => resolve({ code, stdout, stderr }));
      stream.end();
    });
  });
}

describe('parseShellWords', () => {
  const cases: Array<[string, string[]]> = [
    ['md5sum /a/b', ['md5sum', '/a/b']],
    ['  md5sum\t  /a  ', ['md5sum', '/a']],
    ["md5sum 'a b'", ['md5sum', 'a b']],
    ['md5sum "a b"', ['md5sum', 'a b']],
    ['md5sum a\\ b', ['md5sum', 'a b']],
    ["md5sum 'it'\\''s'", ['md5sum', "it's"]],
    ['md5sum "say \\"hi\\" \\\\ \\n"', ['md5sum', 'say "hi" \\ \\n']],
    ["md5sum '$HOME `x` ; | *'", ['md5sum', '$HOME `x` ; | *']],
    ['md5sum "a;b|c&d>e<f*g?h~i#j"', ['md5sum', 'a;b|c&d>e<f*g?h~i#j']],
    ["md5sum ''", ['md5sum', '']],
    ['md5sum ""x', ['md5sum', 'x']],
    ['md5sum a#b x~y', ['md5sum', 'a#b', 'x~y']],
    ['md5sum héllo/wörld/日本語/🎉', ['md5sum', 'héllo/wörld/日本語/🎉']],
    ['md5sum a\\\nb', ['md5sum', 'ab']],
    ["md5sum 'line\nbreak'", ['md5sum', 'line\nbreak']],
    ['', []],
    ['   ', []],
  ];
  for (const [line, words] of cases) {
    it(`splits ${JSON.stringify(line)}`, () => assert.deepEqual(parseShellWords(line), words));
  }

  it('inverts the quoting rclone applies to every kind of path', () => {
    const paths = [
      '/plain/path.txt',
      '/with space/and\ttab',
      "/quote's/\"double\"/back\\slash",
      '/$HOME/`date`/$(id)/${x}',
      '/semi;colon|pipe&amp>gt<lt',
      '/glob*/q?/[set]/{a,b}/~tilde/#hash/!bang/=eq',
      '/new\nline/carriage\rreturn',
      '/ünïcødé/日本語/🎉 emoji',
      '/-dash/--double',
    ];
    for (const path of paths) {
      assert.deepEqual(parseShellWords(`md5sum ${rcloneEscape(path)}`), ['md5sum', path], `path ${JSON.stringify(path)}`);
    }
  });

  const refused = [
    'md5sum a; rm -rf /',
    'md5sum a && rm b',
    'md5sum a || true',
    'md5sum a | sh',
    'md5sum a & sleep 1',
    'md5sum a > /etc/passwd',
    'md5sum < /etc/passwd',
    'md5sum $(id)',
    'md5sum `id`',
    'md5sum $HOME',
    'md5sum "$HOME"',
    'md5sum "`id`"',
    'md5sum *.txt',
    'md5sum file?',
    'md5sum [ab]',
    'md5sum {a,b}',
    'md5sum ~/x',
    'md5sum # comment',
    'FOO=bar md5sum a',
    '(md5sum a)',
    'md5sum a\nrm b',
    "md5sum 'unterminated",
    'md5sum "unterminated',
    'md5sum trailing\\',
  ];
  for (const line of refused) {
    it(`refuses ${JSON.stringify(line)}`, () => assert.throws(() => parseShellWords(line), ShellSyntaxError));
  }
});

describe('formatDfTable', () => {
  it('lays out rows exactly as GNU df -k does', (t) => {
    const local = execLocal('/', 'df', ['-k', '/']);
    if (local.code !== 0) return t.skip(`df -k / failed: ${local.stderr}`);
    const [, row] = local.stdout.split('\n');
    const [source, size, used, available, percent, ...mount] = row!.trim().split(/ +/);
    const rendered = formatDfTable([
      { source: source!, size: Number(size), used: Number(used), available: Number(available), percent: parseInt(percent!, 10), mountedOn: mount.join(' ') },
    ]);
    assert.equal(rendered, local.stdout);
  });

  it('lays out rows exactly as GNU df -kP does', (t) => {
    const local = execLocal('/', 'df', ['-kP', '/']);
    if (local.code !== 0) return t.skip(`df -kP / failed: ${local.stderr}`);
    const [source, size, used, available, percent, ...mount] = local.stdout.split('\n')[1]!.trim().split(/ +/);
    const rendered = formatDfTable(
      [{ source: source!, size: Number(size), used: Number(used), available: Number(available), percent: parseInt(percent!, 10), mountedOn: mount.join(' ') }],
      true,
    );
    assert.equal(rendered, local.stdout);
  });

  it('widens columns for long values and prints - when no percentage can be computed', () => {
    const table = formatDfTable([{ source: 'a-rather-long-source-name', size: 12345678901234, used: 0, available: 0, mountedOn: '/' }]);
    assert.equal(
      table,
      'Filesystem                     1K-blocks  Used Available Use% Mounted on\n' +
        'a-rather-long-source-name 12345678901234     0         0    - /\n',
    );
  });
});

describe('exec commands over SSH, against coreutils', () => {
  const dir = makeTempDir('sftp-expose-exec-');
  const names = ['plain.bin', 'with space.txt', 'ünï cødé 日本.txt', 'empty', "quote's \"and\" $dollar", 'back\\slash', 'new\nline'];
  let server: TestServer;
  let client: ssh2.Client;

  before(async () => {
    mkdirSync(join(dir.path, 'sub dir'));
    writeFileSync(join(dir.path, 'plain.bin'), randomBytes(300_000));
    writeFileSync(join(dir.path, 'empty'), '');
    for (const name of names.slice(1)) if (name !== 'empty') writeFileSync(join(dir.path, name), `content of ${name}\n`);
    writeFileSync(join(dir.path, 'sub dir', 'nested.txt'), 'nested\n');
    server = await startTestServer({ fs: new LocalFS({ root: dir.path }) });
    client = await connectClient(server.port, { username: TEST_USER, privateKey: clientKey().privateKey });
  });
  after(async () => {
    if (client) await endClient(client);
    if (server) await server.close();
    dir.remove();
  });

  for (const program of ['md5sum', 'sha1sum', 'sha256sum', 'sha512sum']) {
    it(`${program} prints what coreutils prints, byte for byte, for every kind of name`, async () => {
      for (const name of [...names, 'sub dir/nested.txt']) {
        const remote = await execRemote(client, `${program} ${rcloneEscape(name)}`);
        const local = execLocal(dir.path, program, [name]);
        assert.deepEqual(remote, local, `${program} ${JSON.stringify(name)}`);
      }
    });

    it(`${program} reads stdin when given no file or '-', as coreutils does`, async () => {
      assert.deepEqual(await execRemote(client, program), execLocal(dir.path, program, []));
      assert.deepEqual(await execRemote(client, program, 'some input\n'), execLocal(dir.path, program, [], 'some input\n'));
      assert.deepEqual(await execRemote(client, `${program} - plain.bin`, 'x'), execLocal(dir.path, program, ['-', 'plain.bin'], 'x'));
    });

    it(`${program} reports missing files and directories, hashes the rest, exits 1`, async () => {
      const args = ['plain.bin', 'missing', 'sub dir', 'empty'];
      const remote = await execRemote(client, `${program} ${args.map(rcloneEscape).join(' ')}`);
      const local = execLocal(dir.path, program, args);
      assert.equal(remote.code, 1);
      assert.deepEqual(remote, local);
    });
  }

  it('quotes names in error messages as coreutils does', async () => {
    const missing = ['sub dir/missing', "it's", 'a"b', 'ünï', 'a$b', 'x=y', '~a', 'a~', '#a', 'a\\b', 'a\nb', 'a\tb', 'a:b', "it's $x", 'a\x7fb', "it's\nb", "\n'b", 'a{b]'];
    const remote = await execRemote(client, `sha1sum ${missing.map(rcloneEscape).join(' ')}`);
    assert.deepEqual(remote, execLocal(dir.path, 'sha1sum', missing));
  });

  it('resolves absolute paths inside the served root, not the host', async () => {
    const remote = await execRemote(client, 'md5sum /plain.bin');
    const local = execLocal(dir.path, 'md5sum', ['plain.bin']);
    assert.equal(remote.stdout, local.stdout.replace('plain.bin', '/plain.bin'));
    const outside = await execRemote(client, `md5sum ${rcloneEscape(join(dir.path, 'plain.bin'))}`);
    assert.equal(outside.code, 1);
    assert.match(outside.stderr, /No such file or directory/);
  });

  it('df -k reports the served directory in the layout and units of coreutils df -k', async () => {
    const remote = await execRemote(client, 'df -k /');
    const local = execLocal(dir.path, 'df', ['-k', '.']);
    assert.equal(remote.code, 0, remote.stderr);
    const [remoteHeader, remoteRow, ...rest] = remote.stdout.split('\n');
    const [localHeader, localRow] = local.stdout.split('\n');
    assert.equal(remoteHeader, localHeader);
    assert.deepEqual(rest, ['']);
    const [source, size, used, available, percent, mount] = remoteRow!.trim().split(/ +/);
    const localFields = localRow!.trim().split(/ +/);
    assert.equal(source, 'sftp-expose');
    assert.equal(mount, '/');
    assert.equal(size, localFields[1], 'the same total size');
    // Other processes write to this disk meanwhile: used and available agree to within 256 MiB.
    assert.ok(Math.abs(Number(used) - Number(localFields[2])) < 262_144, `used ${used} vs ${localFields[2]}`);
    assert.ok(Math.abs(Number(available) - Number(localFields[3])) < 262_144, `available ${available} vs ${localFields[3]}`);
    assert.ok(Math.abs(parseInt(percent!, 10) - parseInt(localFields[4]!, 10)) <= 1, `Use% ${percent} vs ${localFields[4]}`);
  });

  it('df of a missing path fails as df does', async () => {
    const remote = await execRemote(client, 'df -k /missing');
    assert.deepEqual(remote, { code: 1, stdout: '', stderr: 'df: /missing: No such file or directory\n' });
  });

  it('refuses unknown commands and shell syntax without running anything', async () => {
    const marker = join(dir.path, 'marker');
    for (const command of ['ls /', `touch ${marker}`, `md5sum $(touch ${marker})`, `md5sum plain.bin; touch ${marker}`, `md5sum plain.bin | tee ${marker}`, `md5sum plain.bin > ${marker}`]) {
      const remote = await execRemote(client, command);
      assert.equal(remote.code, 1, command);
      assert.equal(remote.stdout, '', command);
      assert.match(remote.stderr, /^sftp-expose: (command not supported: \w+|unsupported shell syntax: .*)\n$/, command);
    }
    assert.equal(existsSync(marker), false, 'no command reached a shell');
    assert.deepEqual(await execRemote(client, 'rm -rf /'), { code: 1, stdout: '', stderr: 'sftp-expose: command not supported: rm\n' });
    assert.equal(existsSync(join(dir.path, 'plain.bin')), true);
  });

  it('refuses unsupported options instead of guessing', async () => {
    const remote = await execRemote(client, 'md5sum -c sums.txt');
    assert.equal(remote.code, 1);
    assert.match(remote.stderr, /^md5sum: unsupported option '-c'\n$/);
  });

  it('answers a shell request with a message and status 1', async () => {
    const remote = await shellRemote(client);
    assert.equal(remote.code, 1);
    assert.equal(remote.stdout, '');
    assert.match(remote.stderr, /^sftp-expose: interactive shells are not supported/);
  });
});

describe('exec commands over SSH, on other filesystems and servers', () => {
  const servers: TestServer[] = [];
  const clients: ssh2.Client[] = [];
  async function connect(fs: FS, options: { home?: string; create?: (options: BaseSFTPServerOptions) => TestSFTPServer } = {}): Promise<ssh2.Client> {
    const server = await startTestServer({ fs, ...options });
    servers.push(server);
    const client = await connectClient(server.port, { username: TEST_USER, privateKey: clientKey().privateKey });
    clients.push(client);
    return client;
  }
  after(async () => {
    await Promise.all(clients.map(endClient));
    await Promise.all(servers.map((server) => server.close()));
  });

  it('df on a MemoryFS reports its capacity and usage in 1K blocks', async () => {
    const fs = new MemoryFS({ capacity: 100 * 1024 * 1024 });
    await fs.writeFile('/one-mebibyte', Buffer.alloc(1024 * 1024, 1));
    const client = await connect(fs);
    assert.deepEqual(await execRemote(client, 'df -k'), {
      code: 0,
      stdout: 'Filesystem     1K-blocks  Used Available Use% Mounted on\nsftp-expose       102400  1024    101376   1% /\n',
      stderr: '',
    });
  });

  it('df fails with a message when the FS cannot report its size', async () => {
    const fs = new MemoryFS();
    Object.defineProperty(fs, 'statvfs', { value: undefined });
    const client = await connect(fs);
    const remote = await execRemote(client, 'df -k /');
    assert.equal(remote.code, 1);
    assert.equal(remote.stdout, '');
    assert.match(remote.stderr, /^df: .*size/);
  });

  it('hashes by reading the file when the FS has no hash of its own, relative to the home directory', async () => {
    const fs = new MemoryFS();
    Object.defineProperty(fs, 'hash', { value: undefined });
    const data = randomBytes(3 * 1024 * 1024 + 17);
    await fs.mkdir('/home');
    await fs.mkdir('/home/user');
    await fs.writeFile('/home/user/data.bin', data);
    const client = await connect(fs, { home: '/home/user' });
    const dir = makeTempDir('sftp-expose-exec-hash-');
    try {
      writeFileSync(join(dir.path, 'data.bin'), data);
      for (const program of ['md5sum', 'sha1sum', 'sha256sum']) {
        assert.deepEqual(await execRemote(client, `${program} data.bin`), execLocal(dir.path, program, ['data.bin']));
      }
    } finally {
      dir.remove();
    }
  });

  it('ends an exec with a message and status 1 when the user has no filesystem', async () => {
    class NoFSServer extends TestSFTPServer {
      override getFS(): FS {
        throw new Error('storage offline');
      }
    }
    const client = await connect(new MemoryFS(), {
      create: (options) => new NoFSServer(options, { username: TEST_USER, keys: [clientKey().publicKey] }),
    });
    assert.deepEqual(await execRemote(client, 'md5sum'), { code: 1, stdout: '', stderr: 'sftp-expose: storage offline\n' });
  });

  it('lets a subclass add, replace and remove commands', async () => {
    class CustomServer extends TestSFTPServer {
      override createExecCommands(fs: FS, session: Parameters<TestSFTPServer['createExecCommands']>[1]): ExecCommands {
        const commands = super.createExecCommands(fs, session);
        commands.delete('df');
        commands.set('whoami', async (_args, context) => {
          context.stdout.write(`${session.username}\n`);
          return 0;
        });
        return commands;
      }
    }
    const client = await connect(new MemoryFS(), {
      create: (options) => new CustomServer(options, { username: TEST_USER, keys: [clientKey().publicKey] }),
    });
    assert.deepEqual(await execRemote(client, 'whoami'), { code: 0, stdout: `${TEST_USER}\n`, stderr: '' });
    assert.deepEqual(await execRemote(client, 'df'), { code: 1, stdout: '', stderr: 'sftp-expose: command not supported: df\n' });
    assert.equal((await execRemote(client, 'md5sum')).code, 0);
  });
});
