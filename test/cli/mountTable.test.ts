import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openMountTable, parseMountTable } from '../../src/cli/mountTable.js';
import { UsageError } from '../../src/cli/serveOptions.js';
import { parseServeOptions } from '../../src/cli/serveOptions.js';
import { createStderrLogger } from '../../src/logger.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { startNpmWebDAVServer, type RunningWebDAVServer } from '../helpers/webdavServer.js';

const usageError = (pattern: RegExp) => (err: unknown) => err instanceof UsageError && pattern.test(err.message);

describe('mount table file (--mounts)', () => {
  it('accepts BACKEND strings and { backend, readOnly } objects, normalising mount points', () => {
    const entries = parseMountTable('{"/uploads/": "memory:", "/reports": {"backend": "./r", "readOnly": true}}', 'm.json');
    assert.deepEqual(entries, [
      { point: '/uploads', backend: 'memory:', readOnly: false },
      { point: '/reports', backend: './r', readOnly: true },
    ]);
  });

  it('names the file and the bad entry in every error', () => {
    assert.throws(() => parseMountTable('{"/a": "memory:",', 'm.json'), usageError(/mount table m\.json is not valid JSON/));
    assert.throws(() => parseMountTable('["memory:"]', 'm.json'), usageError(/must be a JSON object/));
    assert.throws(() => parseMountTable('{}', 'm.json'), usageError(/has no entries/));
    assert.throws(() => parseMountTable('{"uploads": "memory:"}', 'm.json'), usageError(/entry "uploads": a mount point must be an absolute path/));
    assert.throws(() => parseMountTable('{"/a": "memory:", "/a/": "memory:"}', 'm.json'), usageError(/entry "\/a\/": the same mount point as entry "\/a"/));
    assert.throws(() => parseMountTable('{"/a": 3}', 'm.json'), usageError(/entry "\/a": expected a BACKEND string/));
    assert.throws(() => parseMountTable('{"/a": ""}', 'm.json'), usageError(/entry "\/a": the BACKEND is empty/));
    assert.throws(() => parseMountTable('{"/a": {"backend": "memory:", "readonly": true}}', 'm.json'), usageError(/entry "\/a": unknown key "readonly"/));
    assert.throws(() => parseMountTable('{"/a": {"backend": "memory:", "readOnly": "yes"}}', 'm.json'), usageError(/"readOnly" must be true or false/));
  });

  it('--mounts excludes a BACKEND argument and needs an existing file', () => {
    assert.throws(() => parseServeOptions(['--mounts', '/nonexistent/mounts.json']), usageError(/mount table file not found/));
    const dir = makeTempDir();
    try {
      const file = join(dir.path, 'm.json');
      writeFileSync(file, '{"/m": "memory:"}');
      assert.throws(() => parseServeOptions(['--mounts', file, 'memory:']), usageError(/drop the BACKEND argument/));
      const options = parseServeOptions(['--mounts', file, '--webdav-user', 'alice']);
      assert.ok(options !== 'help');
      assert.equal(options.mountsFile, file);
      assert.equal(options.backendFlags['webdav-user'], 'alice');
    } finally {
      dir.remove();
    }
  });

  describe('opened', () => {
    let dir: ReturnType<typeof makeTempDir>;
    let dav: RunningWebDAVServer;
    const logger = createStderrLogger('silent');
    before(async () => {
      dir = makeTempDir('sftp-expose-mounts-');
      mkdirSync(join(dir.path, 'reports'));
      mkdirSync(join(dir.path, 'dav'));
      writeFileSync(join(dir.path, 'reports', 'q1.txt'), 'quarter one');
      dav = await startNpmWebDAVServer({ directory: join(dir.path, 'dav') });
    });
    after(async () => {
      await dav?.stop();
      dir?.remove();
    });

    it('composes memory:, a local folder (read-only) and a WebDAV server into one tree', async () => {
      const file = join(dir.path, 'mounts.json');
      const table = { '/scratch': 'memory:', '/reports': { backend: join(dir.path, 'reports'), readOnly: true }, '/remote/dav': `webdav+${dav.url}` };
      writeFileSync(file, JSON.stringify(table));
      const fs = await openMountTable(file, { logger });
      try {
        assert.deepEqual((await fs.listdirAll('/')).map((entry) => entry.name).sort(), ['remote', 'reports', 'scratch']);
        assert.equal((await fs.readFile('/reports/q1.txt')).toString(), 'quarter one');
        await assert.rejects(fs.writeFile('/reports/new.txt', 'x'));
        await fs.writeFile('/remote/dav/up.txt', 'over webdav');
        assert.equal((await fs.readFile('/remote/dav/up.txt')).toString(), 'over webdav');
        await assert.rejects(fs.rename('/remote/dav/up.txt', '/scratch/up.txt'), /across mount points/);
      } finally {
        await fs.close();
      }
    });

    it('a BACKEND that cannot be opened names its entry', async () => {
      const file = join(dir.path, 'bad.json');
      writeFileSync(file, JSON.stringify({ '/ok': 'memory:', '/missing': join(dir.path, 'no-such-folder') }));
      await assert.rejects(openMountTable(file, { logger }), usageError(/entry "\/missing": backend folder not found/));
    });
  });
});
