import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LocalFS } from '../../src/backends/local.js';
import { requireFile, requireTool } from '../helpers/requireTool.js';
import { testHostKeyPath } from '../helpers/keys.js';
import { runProcess } from '../helpers/runProcess.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, TEST_USER, TestSFTPServer, type TestServer } from '../helpers/testServer.js';

/*
 * Two SFTP client libraries other programs are built on, each through a small
 * client of the same commands and output built here: libssh, the C library of
 * KDE, Remmina and x2go (not curl's libssh2; test/e2e/libssh/sftp-client.c),
 * and JSch, the Java library of Jenkins, Ant and Spring Integration
 * (test/e2e/jsch/SftpClient.java). Each has its own key exchange, its own
 * way of writing and reading files, and its own order of SYMLINK's paths:
 * libssh sends OpenSSH's order only to a server that calls itself OpenSSH and
 * the draft's (link first) to this one; JSch sends OpenSSH's to every server.
 */

const PASSWORD = 'library-client-password';
const JSCH_JAR = '/usr/share/java/jsch.jar';
const LIBSSH_HEADER = '/usr/include/libssh/sftp.h';
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

interface LibraryClient {
  name: string;
  skip: string | false;
  /** Makes the client runnable; returns the command line before HOST PORT USER PASSWORD. */
  build(dir: string): string[];
  /** The status a client reports for MKDIR of a name a file has: libssh turns our FAILURE into FILE_ALREADY_EXISTS after an LSTAT. */
  mkdirTakenStatus: number;
}

const CLIENTS: LibraryClient[] = [
  {
    name: 'libssh',
    skip: requireTool('gcc') || requireFile(LIBSSH_HEADER, 'libssh-dev'),
    build(dir) {
      const binary = join(dir, 'sftp-client');
      const built = spawnSync('gcc', ['-Wall', '-Werror', '-O1', '-o', binary, source('./libssh/sftp-client.c'), '-lssh'], { encoding: 'utf8' });
      assert.equal(built.status, 0, `the libssh client does not build: ${built.stderr}`);
      return [binary];
    },
    mkdirTakenStatus: 11,
  },
  {
    name: 'JSch',
    skip: requireTool('java') || requireFile(JSCH_JAR, 'libjsch-java'),
    // Java runs the single source file itself: nothing to build.
    build: () => ['java', '-cp', JSCH_JAR, source('./jsch/SftpClient.java')],
    mkdirTakenStatus: 4,
  },
];

for (const client of CLIENTS) {
  describe(`a ${client.name} client against our server`, { skip: client.skip }, () => {
    const root = makeTempDir('sftp-expose-library-root-');
    const local = makeTempDir('sftp-expose-library-local-');
    let command: string[];
    let server: TestServer;

    before(async () => {
      command = client.build(local.path);
      // JSch 0.1.54 (Debian's) knows no ed25519 host key: an ECDSA one as well, as a server made by the CLI has an RSA one.
      const ecdsaKey = join(local.path, 'ssh_host_ecdsa_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '256', '-N', '', '-f', ecdsaKey]);
      server = await startTestServer({
        fs: new LocalFS({ root: root.path }),
        password: PASSWORD,
        create: (options) => new TestSFTPServer({ ...options, hostKeys: [testHostKeyPath(), ecdsaKey] }, { username: TEST_USER, keys: [], password: PASSWORD }),
      });
    });
    after(async () => {
      await server?.close();
      root.remove();
      local.remove();
    });

    /** Runs the commands in one session: one output line per command ("ok ..." or "error <status> ..."). */
    async function session(...commands: string[]): Promise<string[]> {
      const [program, ...args] = command;
      const result = await runProcess(program!, [...args, '127.0.0.1', String(server.port), TEST_USER, PASSWORD], { input: `${commands.join('\n')}\n`, timeoutMs: 60_000 });
      const lines = result.stdout.trim().split('\n');
      assert.equal(lines.length, commands.length, `one line per command; exit ${result.code}, stderr: ${result.stderr}\n${result.stdout}`);
      return lines;
    }

    it('uploads and downloads a 1 MiB file and an empty one byte for byte', async () => {
      // Small: libssh 0.10 waits for each 32 KiB WRITE's answer before it sends the next.
      const data = randomBytes(1024 * 1024 + 77);
      writeFileSync(join(local.path, 'up.bin'), data);
      writeFileSync(join(local.path, 'empty'), '');
      const lines = await session(
        `put ${join(local.path, 'up.bin')} /up.bin`,
        `put ${join(local.path, 'empty')} /empty`,
        `get /up.bin ${join(local.path, 'down.bin')}`,
        `get /empty ${join(local.path, 'empty.down')}`,
        'stat /up.bin',
      );
      assert.deepEqual(lines, [`ok ${data.length}`, 'ok 0', `ok ${data.length}`, 'ok 0', `ok type=file size=${data.length} mode=644`]);
      assert.ok(readFileSync(join(root.path, 'up.bin')).equals(data), 'the server stored what was sent');
      assert.ok(readFileSync(join(local.path, 'down.bin')).equals(data), 'the download is what was stored');
      assert.equal(statSync(join(root.path, 'empty')).size, 0);
    });

    it('makes the symlink the client meant', async () => {
      writeFileSync(join(root.path, 'target.txt'), 'pointed at\n');
      const lines = await session('symlink /target.txt /link', 'readlink /link', 'lstat /link', `get /link ${join(local.path, 'via-link')}`);
      assert.deepEqual(lines.slice(0, 3), ['ok', 'ok /target.txt', `ok type=symlink size=${lstatSync(join(root.path, 'link')).size} mode=777`]);
      assert.ok(lstatSync(join(root.path, 'link')).isSymbolicLink(), 'the link is where the client asked for it');
      assert.ok(readlinkSync(join(root.path, 'link')).endsWith('target.txt'));
      assert.equal(readFileSync(join(root.path, 'target.txt'), 'utf8'), 'pointed at\n', 'the target is untouched');
      assert.equal(lines[3], 'ok 11');
      assert.equal(readFileSync(join(local.path, 'via-link'), 'utf8'), 'pointed at\n');
    });

    it('creates, lists, renames, chmods and removes', async () => {
      mkdirSync(join(root.path, 'listed'));
      writeFileSync(join(root.path, 'listed', 'a.txt'), 'x'.repeat(1234));
      const lines = await session('mkdir /listed/sub', 'rename /listed/a.txt /listed/b.txt', 'chmod /listed/b.txt 600', 'stat /listed/b.txt', 'ls /listed', 'rm /listed/b.txt', 'rmdir /listed/sub', 'ls /listed');
      assert.deepEqual(lines.slice(0, 4), ['ok', 'ok', 'ok', 'ok type=file size=1234 mode=600']);
      assert.deepEqual(lines[4]!.split(' ').slice(1).map((entry) => entry.replace(/^sub:\d+$/, 'sub')).sort(), ['b.txt:1234', 'sub']);
      assert.deepEqual(lines.slice(5), ['ok', 'ok', 'ok']);
      assert.equal(existsSync(join(root.path, 'listed', 'b.txt')), false);
    });

    it('gets each error as its SFTP status, and the session goes on', async () => {
      writeFileSync(join(root.path, 'kept.txt'), 'still here');
      mkdirSync(join(root.path, 'full'));
      writeFileSync(join(root.path, 'full', 'f'), '');
      const lines = await session('stat /no/such', 'rmdir /full', `get /../../../etc/passwd ${join(local.path, 'escaped')}`, 'mkdir /kept.txt', 'stat /kept.txt');
      assert.match(lines[0]!, /^error 2 /, 'SSH_FX_NO_SUCH_FILE');
      assert.match(lines[1]!, /^error 4 /, 'SSH_FX_FAILURE: the directory is not empty');
      assert.match(lines[2]!, /^error 2 /, 'above the root is the root, which has no etc/passwd');
      assert.match(lines[3]!, new RegExp(`^error ${client.mkdirTakenStatus} mkdir: .*File exists`));
      assert.equal(lines[4], 'ok type=file size=10 mode=644');
    });
  });
}
