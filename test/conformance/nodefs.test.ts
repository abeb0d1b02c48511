import * as nodeFs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memfs } from 'memfs';
import { NodeFS } from '../../src/backends/nodefs.js';
import { runConformanceSuite } from '../../src/conformance/index.js';

// memfs stores symlinks, modes, owners, times and hard links like a POSIX disk does.
runConformanceSuite('NodeFS over memfs', async () => ({ fs: new NodeFS(memfs().fs) }));

runConformanceSuite(
  'NodeFS over node:fs (rooted in a temp dir)',
  async () => {
    const root = await mkdtemp(join(tmpdir(), 'sftp-expose-conformance-nodefs-'));
    return { fs: new NodeFS(nodeFs, { root }), cleanup: () => rm(root, { recursive: true, force: true }) };
  },
  // Ownership needs chown(2) to other uids, which only root may do.
  { ownership: process.getuid?.() === 0 },
);
