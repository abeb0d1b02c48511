import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import { parseKnownHosts, SFTPFS, UpstreamConnectionLost, verifyHostKey, type SFTPFSOptions } from '../../src/backends/sftp/SFTPFS.js';
import type { FS } from '../../src/fs/FS.js';
import { parseOpenFlags } from '../../src/fs/types.js';
import type { BaseSFTPServerOptions, SessionInfo } from '../../src/ssh/BaseSFTPServer.js';
import { runCLI, startServe } from '../cli/cliProcess.js';
import { clientKey, testHostKeyPath } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { runSftpBatch } from '../helpers/sftpBatch.js';
import { startSshd, SSHD, type RunningSshd } from '../helpers/sshd.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, TestSFTPServer, TEST_USER, type TestServer } from '../helpers/testServer.js';
import { waitFor } from '../helpers/waitFor.js';

const MiB = 1024 * 1024;

function knownHostsLine(port: number, publicKeyFile = `${testHostKeyPath()}.pub`): string {
  const [type, key] = readFileSync(publicKeyFile, 'utf8').split(' ');
  return `[127.0.0.1]:${port} ${type} ${key}\n`;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('data', (chunk) => hash.update(chunk)).on('end', () => resolve(hash.digest('hex'))).on('error', reject);
  });
}

/** Options reaching a sftp-expose test server (MemoryFS) as the test user. */
function upstreamOptions(port: number, extra: Partial<SFTPFSOptions> = {}): SFTPFSOptions {
  return { host: '127.0.0.1', port, username: TEST_USER, privateKey: clientKey().privateKey, knownHosts: knownHostsLine(port), ...extra };
}

/** A proxy that opens one SFTPFS (one upstream connection) per session and closes it when the session ends. */
async function startProxy(upstream: SFTPFSOptions): Promise<TestServer & { opened: SFTPFS[]; released: FS[] }> {
  const opened: SFTPFS[] = [];
  const released: FS[] = [];
  class ProxyServer extends TestSFTPServer {
    override async getFS(): Promise<FS> {
      const fs = await SFTPFS.connect(upstream);
      opened.push(fs);
      return fs;
    }
    override async releaseFS(fs: FS, _session: SessionInfo): Promise<void> {
      released.push(fs);
      await fs.close();
    }
  }
  const server = await startTestServer({
    create: (options: BaseSFTPServerOptions) => new ProxyServer(options, { username: TEST_USER, keys: [clientKey().publicKey] }),
  });
  return Object.assign(server, { opened, released });
}

describe('SFTP proxy: OpenSSH sftp → sftp-expose (SFTPFS) → OpenSSH sshd', { skip: requireTool('sftp') || requireTool(SSHD) }, () => {
  let temp: ReturnType<typeof makeTempDir>;
  let sshd: RunningSshd;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  const upstreamRoot = () => join(temp.path, 'upstream');
  const clientDir = () => join(temp.path, 'client');

  before(async () => {
    temp = makeTempDir('sftp-expose-proxy-');
    mkdirSync(upstreamRoot());
    mkdirSync(clientDir());
    writeFileSync(join(temp.path, 'authorized_keys'), readFileSync(`${clientKey().path}.pub`));
    sshd = await startSshd({ authorizedKeysPath: join(temp.path, 'authorized_keys'), subsystem: 'internal-sftp' });
    proxy = await startProxy({ ...upstreamOptions(sshd.port), username: sshd.user, root: upstreamRoot() });
  });
  after(async () => {
    await proxy?.close();
    await sshd?.stop();
    temp?.remove();
  });

  it('puts and gets 100 MiB intact, and reports how long it took against sftp straight to sshd', async (t) => {
    writeFileSync(join(clientDir(), 'big.bin'), randomBytes(100 * MiB));
    const expected = await sha256File(join(clientDir(), 'big.bin'));
    const timed = async (label: string, port: number, user: string, commands: string[]) => {
      const started = Date.now();
      const run = await runSftpBatch(port, clientKey().path, commands, { cwd: clientDir(), user, timeoutMs: 180_000 });
      assert.equal(run.code, 0, `${label}: ${run.stderr}`);
      t.diagnostic(`${label}: ${((Date.now() - started) / 1000).toFixed(2)} s`);
    };
    await timed('proxy put 100 MiB', proxy.port, TEST_USER, ['put big.bin via-proxy.bin']);
    assert.equal(await sha256File(join(upstreamRoot(), 'via-proxy.bin')), expected);
    await timed('proxy get 100 MiB', proxy.port, TEST_USER, ['get via-proxy.bin back.bin']);
    assert.equal(await sha256File(join(clientDir(), 'back.bin')), expected);
    await timed('direct put 100 MiB', sshd.port, sshd.user, [`put big.bin ${join(upstreamRoot(), 'direct.bin')}`]);
    await timed('direct get 100 MiB', sshd.port, sshd.user, [`get ${join(upstreamRoot(), 'direct.bin')} direct-back.bin`]);
  });

  it('offers what the upstream offers: df (statvfs), ln (hardlink), rename over a file (posix-rename), symlinks', async () => {
    writeFileSync(join(upstreamRoot(), 'a.txt'), 'alpha');
    writeFileSync(join(upstreamRoot(), 'old.txt'), 'old');
    const run = await runSftpBatch(proxy.port, clientKey().path, ['df -h', 'ln a.txt hard.txt', 'ln -s a.txt soft.txt', 'rename a.txt old.txt', 'ls -l'], { cwd: clientDir() });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Size\s+Used\s+Avail/);
    assert.equal(readFileSync(join(upstreamRoot(), 'hard.txt'), 'utf8'), 'alpha');
    assert.equal(readFileSync(join(upstreamRoot(), 'old.txt'), 'utf8'), 'alpha');
    assert.equal(readlinkSync(join(upstreamRoot(), 'soft.txt')), 'a.txt');
  });

  it('closes the upstream connection of each session when the session ends (releaseFS)', async () => {
    const before = proxy.released.length;
    const run = await runSftpBatch(proxy.port, clientKey().path, ['pwd'], { cwd: clientDir() });
    assert.equal(run.code, 0, run.stderr);
    await waitFor(() => proxy.released.length === before + 1, 'the session to release its SFTPFS');
    const released = proxy.released.at(-1) as SFTPFS;
    await assert.rejects(released.stat('/'), /SFTPFS is closed/);
  });
});

describe('SFTPFS host key verification', () => {
  let upstream: TestServer;
  let temp: ReturnType<typeof makeTempDir>;
  before(async () => {
    upstream = await startTestServer({ fs: new MemoryFS() });
    temp = makeTempDir('sftp-expose-known-hosts-');
  });
  after(async () => {
    await upstream?.close();
    temp?.remove();
  });

  it('refuses a host whose key differs from known_hosts, saying so', async () => {
    const otherKey = clientKey('impostor');
    const knownHosts = knownHostsLine(upstream.port, `${otherKey.path}.pub`);
    await assert.rejects(SFTPFS.connect(upstreamOptions(upstream.port, { knownHosts })), /HOST KEY MISMATCH for \[127\.0\.0\.1\]:\d+/);
  });

  it('refuses a host that known_hosts does not list (an entry for another port does not count)', async () => {
    const knownHosts = knownHostsLine(upstream.port + 1);
    await assert.rejects(SFTPFS.connect(upstreamOptions(upstream.port, { knownHosts })), /is not in known_hosts/);
  });

  it('refuses to connect without known hosts unless the check is skipped explicitly', async () => {
    await assert.rejects(SFTPFS.connect(upstreamOptions(upstream.port, { knownHosts: undefined })), /No known_hosts for upstream/);
    const fs = await SFTPFS.connect(upstreamOptions(upstream.port, { knownHosts: undefined, insecureSkipHostKeyCheck: true }));
    await fs.close();
  });

  it('matches patterns as ssh does: wildcards, [host]:port, a negation vetoing the line, @revoked', () => {
    const [type, base64] = readFileSync(`${testHostKeyPath()}.pub`, 'utf8').split(' ') as [string, string];
    const key = Buffer.from(base64, 'base64');
    const verdict = (text: string, host: string, port: number) => verifyHostKey(parseKnownHosts(text), host, port, key);
    assert.equal(verdict(`files.example.com,10.0.0.* ${type} ${base64}\n`, '10.0.0.7', 22).trusted, true);
    assert.equal(verdict(`[*.example.com]:2222 ${type} ${base64}\n`, 'a.example.com', 2222).trusted, true);
    assert.equal(verdict(`*.example.com ${type} ${base64}\n`, 'a.example.com', 2222).trusted, false);
    assert.equal(verdict(`*.example.com,!bad.example.com ${type} ${base64}\n`, 'bad.example.com', 22).trusted, false);
    assert.deepEqual(verdict(`@revoked * ${type} ${base64}\nhost ${type} ${base64}\n`, 'host', 22), {
      trusted: false,
      reason: 'revoked',
      message: `the ${type} host key of host is marked @revoked in known_hosts`,
    });
  });

  it('accepts a hashed entry written by ssh-keygen -H, read from a file', async () => {
    const file = join(temp.path, 'known_hosts');
    writeFileSync(file, knownHostsLine(upstream.port));
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    assert.match(readFileSync(file, 'utf8'), /^\|1\|/);
    const fs = await SFTPFS.connect(upstreamOptions(upstream.port, { knownHosts: undefined, knownHostsFile: file }));
    try {
      assert.equal((await fs.stat('/')).type, 'directory');
    } finally {
      await fs.close();
    }
  });
});

describe('SFTPFS when the upstream goes away', () => {
  it('fails a transfer in flight with "upstream connection lost" when the upstream is killed, and later calls fail fast', async () => {
    const home = makeTempDir('sftp-expose-upstream-home-');
    const keys = join(home.path, 'authorized_keys');
    writeFileSync(keys, readFileSync(`${clientKey().path}.pub`));
    const upstream = await startServe(['memory:', '--authorized-keys', keys, '--key', testHostKeyPath()], home.path);
    const fs = await SFTPFS.connect({ ...upstreamOptions(upstream.port), username: 'anyone', readyTimeoutMs: 5_000 });
    try {
      const handle = await fs.open('/big.bin', parseOpenFlags('w'));
      const chunk = randomBytes(MiB);
      await handle.write(0, chunk);
      await upstream.stop('SIGKILL');
      const started = Date.now();
      const failure = await (async () => {
        try {
          for (let i = 1; i < 1000; i++) await handle.write(i * MiB, chunk);
          await handle.close();
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      assert.ok(failure instanceof UpstreamConnectionLost, `expected UpstreamConnectionLost, got ${String(failure)}`);
      assert.match((failure as Error).message, /Upstream connection lost/);
      assert.ok(Date.now() - started < 15_000, 'the failure came within 15 s');
      await handle.close().catch(() => {});
      // A new operation tries to reconnect, and says why it cannot.
      await assert.rejects(fs.stat('/'), /Cannot connect to upstream SFTP server/);
    } finally {
      await fs.close();
      await upstream.stop().catch(() => {});
      home.remove();
    }
  });

  it('reconnects for new operations once the upstream is back', async () => {
    const upstreamFs = new MemoryFS();
    await upstreamFs.writeFile('/kept.txt', 'still here');
    const first = await startTestServer({ fs: upstreamFs });
    const fs = await SFTPFS.connect(upstreamOptions(first.port));
    let second: TestSFTPServer | undefined;
    try {
      assert.equal((await fs.readFile('/kept.txt')).toString(), 'still here');
      const handle = await fs.open('/kept.txt', parseOpenFlags('r'));
      await first.close();
      await assert.rejects(handle.read(0, 10), /Upstream connection lost/);
      second = new TestSFTPServer({ fs: upstreamFs, hostKeys: [testHostKeyPath()] }, { username: TEST_USER, keys: [clientKey().publicKey] });
      await second.listen(first.port, '127.0.0.1');
      assert.equal((await fs.readFile('/kept.txt')).toString(), 'still here');
    } finally {
      await fs.close();
      await second?.close();
    }
  });
});

describe('sftp-expose serve sftp://', { skip: requireTool('sftp') }, () => {
  it('proxies an upstream given as a URL with --sftp-key-file and --sftp-known-hosts-file', async () => {
    const upstream = await startTestServer({ fs: new MemoryFS() });
    const home = makeTempDir('sftp-expose-cli-sftp-');
    const knownHosts = join(home.path, 'upstream_known_hosts');
    writeFileSync(knownHosts, knownHostsLine(upstream.port));
    writeFileSync(join(home.path, 'authorized_keys'), readFileSync(`${clientKey().path}.pub`));
    writeFileSync(join(home.path, 'hello.txt'), 'hello through the proxy');
    await upstream.fs.mkdir('/data');
    const url = `sftp://${TEST_USER}@127.0.0.1:${upstream.port}/data`;
    const proxy = await startServe([url, '--sftp-key-file', clientKey().path, '--sftp-known-hosts-file', knownHosts, '--authorized-keys', join(home.path, 'authorized_keys')], home.path);
    let upstreamSessions = 0;
    upstream.server.on('session', () => upstreamSessions++);
    try {
      const run = await runSftpBatch(proxy.port, clientKey().path, ['put hello.txt', 'ls'], { cwd: home.path, user: 'someone' });
      assert.equal(run.code, 0, run.stderr);
      assert.equal((await upstream.fs.readFile('/data/hello.txt')).toString(), 'hello through the proxy');
      const again = await runSftpBatch(proxy.port, clientKey().path, ['get hello.txt again.txt'], { cwd: home.path, user: 'someone' });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(upstreamSessions, 2, 'each proxied session had an upstream session of its own');
    } finally {
      await proxy.stop();
      await upstream.close();
      home.remove();
    }
  });

  it('refuses to start without a known_hosts file unless --sftp-insecure-skip-host-key-check is given', async () => {
    const home = makeTempDir('sftp-expose-cli-sftp-');
    try {
      const refused = await runCLI(['serve', 'sftp://someone@127.0.0.1:1/', '--no-auth'], home.path);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /--sftp-insecure-skip-host-key-check/);
    } finally {
      home.remove();
    }
  });
});
