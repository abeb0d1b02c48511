import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFS } from '../../src/backends/local.js';
import { runConformanceSuite } from '../../src/conformance/index.js';

// Ownership needs chown(2) to other uids, which only root may do.
const isRoot = process.getuid?.() === 0;

runConformanceSuite(
  'LocalFS',
  async () => {
    const root = await mkdtemp(join(tmpdir(), 'sftp-expose-conformance-local-'));
    return { fs: new LocalFS({ root }), cleanup: () => rm(root, { recursive: true, force: true }) };
  },
  { ownership: isRoot },
);

runConformanceSuite(
  'LocalFS with atomic uploads',
  async () => {
    const root = await mkdtemp(join(tmpdir(), 'sftp-expose-conformance-local-atomic-'));
    return { fs: new LocalFS({ root, atomicUploads: true }), cleanup: () => rm(root, { recursive: true, force: true }) };
  },
  { ownership: isRoot },
);
