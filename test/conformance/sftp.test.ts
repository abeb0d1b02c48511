import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import { SFTPFS } from '../../src/backends/sftp/SFTPFS.js';
import { runConformanceSuite } from '../../src/conformance/index.js';
import { clientKey, testHostKeyPath } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { startSshd, SSHD, type RunningSshd } from '../helpers/sshd.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

/** The known_hosts line for a test server on 127.0.0.1:port (every test server here uses the test host key). */
function knownHosts(port: number): string {
  const [type, key] = readFileSync(`${testHostKeyPath()}.pub`, 'utf8').split(' ');
  return `[127.0.0.1]:${port} ${type} ${key}\n`;
}

// (a) Upstream: sftp-expose's own server over MemoryFS. Each test gets a fresh directory as its root.
let upstream: Promise<TestServer> | undefined;
let testNumber = 0;
after(async () => (await upstream)?.close());

runConformanceSuite('SFTPFS → sftp-expose (MemoryFS)', async () => {
  upstream ??= startTestServer({ fs: new MemoryFS() });
  const { port, fs: upstreamFs } = await upstream;
  const root = `/t${++testNumber}`;
  await upstreamFs.mkdir(root);
  const fs = await SFTPFS.connect({ host: '127.0.0.1', port, username: TEST_USER, privateKey: clientKey().privateKey, knownHosts: knownHosts(port), root });
  return { fs, cleanup: () => fs.close() };
});

// (b) Upstream: OpenSSH's sshd with internal-sftp, the root a fresh temp directory per test.
const skipSshd = requireTool(SSHD);
if (skipSshd) {
  process.stderr.write(`*** SKIPPING SFTPFS → OpenSSH sshd conformance: ${skipSshd} ***\n`);
} else {
  let sshd: Promise<{ server: RunningSshd; dir: ReturnType<typeof makeTempDir> }> | undefined;
  after(async () => {
    const started = await sshd;
    await started?.server.stop();
    started?.dir.remove();
  });
  const startOnce = async () => {
    const dir = makeTempDir('sftp-expose-sftpfs-sshd-');
    const authorizedKeys = join(dir.path, 'authorized_keys');
    writeFileSync(authorizedKeys, readFileSync(`${clientKey().path}.pub`));
    return { server: await startSshd({ authorizedKeysPath: authorizedKeys, subsystem: 'internal-sftp' }), dir };
  };

  runConformanceSuite(
    'SFTPFS → OpenSSH sshd (internal-sftp)',
    async () => {
      sshd ??= startOnce();
      const { server } = await sshd;
      const root = makeTempDir('sftp-expose-sftpfs-root-');
      const fs = await SFTPFS.connect({
        host: '127.0.0.1',
        port: server.port,
        username: server.user,
        privateKey: clientKey().privateKey,
        knownHosts: knownHosts(server.port),
        root: root.path,
      });
      return {
        fs,
        cleanup: async () => {
          await fs.close();
          root.remove();
        },
      };
    },
    // chown to other ids needs the sshd session to run as root, as it does in CI.
    { ownership: process.getuid?.() === 0 },
  );
}
