import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Stats } from '../../src/fs/types.js';
import { formatLongname } from '../../src/sftp/longname.js';

/** Seconds since the epoch of a local date, as `ls` and OpenSSH print local times. */
const local = (year: number, month: number, day: number, hours = 0, minutes = 0) => new Date(year, month - 1, day, hours, minutes).getTime() / 1000;
/** OpenSSH's cut-off between "time" and "year" dates: half of 365 days. */
const HALF_YEAR = (365 * 24 * 60 * 60) / 2;

function stats(overrides: Partial<Stats>): Stats {
  return { type: 'file', size: 1234, permissions: 0o644, uid: 1000, gid: 1000, atime: 0, mtime: local(2024, 3, 5, 9, 7), nlink: 1, ...overrides };
}

describe('formatLongname (OpenSSH ls_file layout)', () => {
  const now = local(2024, 3, 6, 12, 0);

  it('lays out a recent file with its time', () => {
    assert.equal(
      formatLongname('name', stats({ owner: 'owner', group: 'group' }), now),
      '-rw-r--r--    1 owner    group        1234 Mar  5 09:07 name',
    );
  });

  it('shows the year, after two spaces, for a file older than half a year', () => {
    assert.equal(
      formatLongname('old.txt', stats({ mtime: local(2019, 11, 23, 18, 30), owner: 'alice', group: 'staff' }), now),
      '-rw-r--r--    1 alice    staff        1234 Nov 23  2019 old.txt',
    );
  });

  it('switches from time to year exactly where OpenSSH does', () => {
    const at = (mtime: number) => formatLongname('f', stats({ mtime }), now).split(' ').filter(Boolean).slice(-2, -1)[0];
    assert.match(at(now - HALF_YEAR + 60)!, /^\d\d:\d\d$/, 'just inside half a year');
    assert.match(at(now - HALF_YEAR)!, /^\d{4}$/, 'at half a year');
    assert.match(at(now)!, /^\d\d:\d\d$/, 'now');
  });

  it('formats the same mtime by its own recency each time (date columns are reused by second)', () => {
    const mtime = local(2024, 3, 5, 9, 7);
    assert.match(formatLongname('f', stats({ mtime }), now), / Mar {2}5 09:07 f$/);
    assert.match(formatLongname('f', stats({ mtime }), now + 2 * HALF_YEAR), / Mar {2}5 {2}2024 f$/);
    assert.match(formatLongname('f', stats({ mtime: mtime + 60 }), now), / Mar {2}5 09:08 f$/);
    assert.match(formatLongname('f', stats({ mtime }), now), / Mar {2}5 09:07 f$/);
  });

  it('shows the year for a date in the future, as OpenSSH (and ls) do', () => {
    const future = now + 3600;
    assert.match(formatLongname('f', stats({ mtime: future }), now), / Mar {2}6 {2}2024 f$/);
  });

  it('falls back to numeric ids, pads names to 8 but never cuts longer ones', () => {
    assert.equal(formatLongname('n', stats({ uid: 0, gid: 42 }), now), '-rw-r--r--    1 0        42           1234 Mar  5 09:07 n');
    assert.equal(
      formatLongname('n', stats({ owner: 'a-very-long-owner', group: 'g' }), now),
      '-rw-r--r--    1 a-very-long-owner g            1234 Mar  5 09:07 n',
    );
  });

  it('names ids from an account table, after the names the stats carry, before the bare ids', () => {
    const accounts = { users: new Map([[1000, 'alice']]), groups: new Map([[42, 'staff']]) };
    assert.equal(formatLongname('n', stats({ gid: 42 }), now, accounts), '-rw-r--r--    1 alice    staff        1234 Mar  5 09:07 n');
    assert.equal(formatLongname('n', stats({ owner: 'carol', gid: 7 }), now, accounts), '-rw-r--r--    1 carol    7            1234 Mar  5 09:07 n');
  });

  it('right-aligns link counts and sizes, and lets big sizes grow', () => {
    assert.equal(formatLongname('d', stats({ nlink: 12, size: 2 ** 40, owner: 'o', group: 'g' }), now), '-rw-r--r--   12 o        g        1099511627776 Mar  5 09:07 d');
  });

  it('marks the file type', () => {
    const first = (type: Stats['type']) => formatLongname('x', stats({ type }), now)[0];
    assert.deepEqual((['file', 'directory', 'symlink'] as const).map(first), ['-', 'd', 'l']);
  });

  it('writes setuid, setgid and sticky bits as ls does (lowercase when executable)', () => {
    const mode = (permissions: number) => formatLongname('x', stats({ permissions }), now).slice(1, 10);
    assert.equal(mode(0o4755), 'rwsr-xr-x');
    assert.equal(mode(0o4644), 'rwSr--r--');
    assert.equal(mode(0o2755), 'rwxr-sr-x');
    assert.equal(mode(0o2745), 'rwxr-Sr-x');
    assert.equal(mode(0o1777), 'rwxrwxrwt');
    assert.equal(mode(0o1776), 'rwxrwxrwT');
    assert.equal(mode(0o7000), '--S--S--T');
    assert.equal(mode(0o000), '---------');
  });

  it('keeps spaces and unicode in the name as they are', () => {
    assert.ok(formatLongname('my file ünï.txt', stats({}), now).endsWith(' 09:07 my file ünï.txt'));
  });
});
