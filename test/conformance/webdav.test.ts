import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { WebDAVFS } from '../../src/backends/webdav/index.js';
import { runConformanceSuite } from '../../src/conformance/index.js';
import type { ConformanceFeatures } from '../../src/conformance/index.js';
import { rcloneMissing, startNpmWebDAVServer, startRcloneWebDAVServer, type RunningWebDAVServer } from '../helpers/webdavServer.js';

/** What WebDAV itself cannot store, whatever the server. */
const webdavFeatures: Partial<ConformanceFeatures> = {
  symlinks: false,
  permissions: false,
  ownership: false,
  randomAccessWrites: false,
  times: false,
  hardlinks: false,
};

/**
 * One server per suite, one fresh directory (MKCOL) per test: the FS is
 * re-rooted there by its URL, as a user would point it at a folder.
 */
function suiteAgainst(
  name: string,
  start: () => Promise<{ server: RunningWebDAVServer; cleanup?: () => Promise<void> }>,
  features: Partial<ConformanceFeatures>,
  options: { encodeBackslash?: boolean } = {},
) {
  describe(name, () => {
    let server: RunningWebDAVServer;
    let cleanup: (() => Promise<void>) | undefined;
    let counter = 0;
    before(async () => {
      ({ server, cleanup } = await start());
    });
    after(async () => {
      await server?.stop();
      await cleanup?.();
    });
    runConformanceSuite(
      'WebDAVFS',
      async () => {
        const folder = `test-${++counter}`;
        const root = new WebDAVFS({ url: server.url });
        await root.mkdir(`/${folder}`);
        await root.close();
        const fs = new WebDAVFS({ url: `${server.url}${folder}/`, ...options });
        return { fs, cleanup: () => fs.close() };
      },
      features,
    );
  });
}

// The npm webdav-server on disk. Its in-memory tree is not used: it drops the
// connection on ranged GETs of more than 64 KiB (webdav-server 2.6.3).
// It takes `\\` for a path separator, so names keep theirs as U+FF3C.
suiteAgainst(
  'webdav-server (npm, on disk)',
  async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sftp-expose-webdav-'));
    return { server: await startNpmWebDAVServer({ directory }), cleanup: () => rm(directory, { recursive: true, force: true }) };
  },
  webdavFeatures,
  { encodeBackslash: true },
);

const rcloneSkip = rcloneMissing();
if (rcloneSkip) {
  describe('rclone serve webdav', { skip: rcloneSkip }, () => {});
} else {
  suiteAgainst(
    'rclone serve webdav',
    async () => {
      const directory = await mkdtemp(join(tmpdir(), 'sftp-expose-webdav-rclone-'));
      return { server: await startRcloneWebDAVServer(directory), cleanup: () => rm(directory, { recursive: true, force: true }) };
    },
    webdavFeatures,
  );
}
