import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAccountFile, systemAccountNames } from '../../src/backends/local/systemAccounts.js';
import { makeTempDir } from '../helpers/tempDir.js';

describe('the host account names LocalFS reports', () => {
  const dir = makeTempDir('sftp-expose-accounts-');
  after(() => dir.remove());

  it('reads name:x:id lines, the first name of an id winning, comments and junk skipped', () => {
    const names = parseAccountFile('# comment\nroot:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\nbroken\nnoid:x::\nalice:x:1000:1000::/home/alice:/bin/sh\n');
    assert.deepEqual([...names], [[0, 'root'], [1000, 'alice']]);
  });

  it('reads the files again once either changes, and not before', async () => {
    const files = [join(dir.path, 'passwd'), join(dir.path, 'group')] as const;
    writeFileSync(files[0], 'alice:x:1000:1000::/home/alice:/bin/sh\n');
    writeFileSync(files[1], 'staff:x:50:\n');
    const first = await systemAccountNames(files);
    assert.equal(first.users.get(1000), 'alice');
    assert.equal(first.groups.get(50), 'staff');
    assert.equal(await systemAccountNames(files), first, 'unchanged files: the same table, not a new read');
    appendFileSync(files[0], 'bob:x:1001:1001::/home/bob:/bin/sh\n');
    const second = await systemAccountNames(files);
    assert.equal(second.users.get(1001), 'bob', 'an account added while running is named');
    assert.equal(second.groups.get(50), 'staff');
  });

  it('names nothing when the files are absent', async () => {
    const names = await systemAccountNames([join(dir.path, 'no-passwd'), join(dir.path, 'no-group')]);
    assert.equal(names.users.size + names.groups.size, 0);
  });
});
