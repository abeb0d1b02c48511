import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidPath } from '../../src/fs/errors.js';
import { basename, dirname, isInside, joinPath, normalizePath, splitPath } from '../../src/fs/path.js';

describe('normalizePath', () => {
  it('keeps an already normal absolute path', () => {
    assert.equal(normalizePath('/a/b/c'), '/a/b/c');
    assert.equal(normalizePath('/'), '/');
  });

  it('drops . components', () => {
    assert.equal(normalizePath('/a/./b/.'), '/a/b');
    assert.equal(normalizePath('/.'), '/');
  });

  it('resolves .. against the previous component', () => {
    assert.equal(normalizePath('/a/b/../c'), '/a/c');
    assert.equal(normalizePath('/a/b/c/../..'), '/a');
  });

  it('never climbs above the root', () => {
    assert.equal(normalizePath('/..'), '/');
    assert.equal(normalizePath('/../../etc/passwd'), '/etc/passwd');
    assert.equal(normalizePath('../../x', '/home/user'), '/x');
  });

  it('collapses repeated slashes and drops a trailing slash', () => {
    assert.equal(normalizePath('//a///b//'), '/a/b');
    assert.equal(normalizePath('/a/'), '/a');
    assert.equal(normalizePath('///'), '/');
  });

  it('treats the empty path as home', () => {
    assert.equal(normalizePath('', '/home/user'), '/home/user');
    assert.equal(normalizePath(''), '/');
  });

  it('resolves a relative path against home', () => {
    assert.equal(normalizePath('docs/a.txt', '/home/user'), '/home/user/docs/a.txt');
    assert.equal(normalizePath('.', '/home/user'), '/home/user');
    assert.equal(normalizePath('..', '/home/user'), '/home');
    assert.equal(normalizePath('x', '/'), '/x');
  });

  it('ignores home for an absolute path', () => {
    assert.equal(normalizePath('/etc', '/home/user'), '/etc');
  });

  it('rejects a NUL byte with InvalidPath', () => {
    assert.throws(() => normalizePath('/a\0b'), InvalidPath);
    assert.throws(() => normalizePath('x', '/home\0'), InvalidPath);
  });

  it('keeps names that only look special', () => {
    assert.equal(normalizePath('/a/.../..b/b..'), '/a/.../..b/b..');
    assert.equal(normalizePath('/ spaced /ü'), '/ spaced /ü');
  });

  it('agrees with component-by-component resolution on every short path of slashes, dots and letters', () => {
    // normalizePath returns paths that are already normal as they are; this checks that shortcut against the rule.
    const byComponents = (path: string, home: string) => {
      const parts: string[] = [];
      for (const part of (path.startsWith('/') ? path : `${home}/${path}`).split('/')) {
        if (part === '..') parts.pop();
        else if (part !== '' && part !== '.') parts.push(part);
      }
      return '/' + parts.join('/');
    };
    const alphabet = ['/', '.', 'a'];
    let paths = [''];
    for (let length = 1; length <= 7; length++) {
      paths = paths.flatMap((prefix) => alphabet.map((c) => prefix + c));
      for (const path of paths) {
        for (const home of ['/', '/h', '/h/i']) assert.equal(normalizePath(path, home), byComponents(path, home), `${JSON.stringify(path)} from ${home}`);
      }
    }
  });
});

describe('joinPath', () => {
  it('joins and normalises', () => {
    assert.equal(joinPath('/a', 'b', '../c'), '/a/c');
    assert.equal(joinPath('/', 'x'), '/x');
  });
});

describe('dirname', () => {
  it('is the path without its last component', () => {
    assert.equal(dirname('/a/b/c'), '/a/b');
    assert.equal(dirname('/a'), '/');
  });

  it('of the root is the root', () => {
    assert.equal(dirname('/'), '/');
  });
});

describe('basename', () => {
  it('is the last component', () => {
    assert.equal(basename('/a/b/c.txt'), 'c.txt');
    assert.equal(basename('/a'), 'a');
  });

  it('of the root is empty', () => {
    assert.equal(basename('/'), '');
  });
});

describe('isInside', () => {
  it('holds for the root itself and anything below it', () => {
    assert.equal(isInside('/a', '/a'), true);
    assert.equal(isInside('/a', '/a/b/c'), true);
  });

  it('does not hold for a sibling sharing a prefix', () => {
    assert.equal(isInside('/a', '/ab'), false);
    assert.equal(isInside('/a/b', '/a'), false);
  });

  it('holds for everything under /', () => {
    assert.equal(isInside('/', '/anything'), true);
    assert.equal(isInside('/', '/'), true);
  });
});

describe('splitPath', () => {
  it('gives the components, none for the root', () => {
    assert.deepEqual(splitPath('/a/b'), ['a', 'b']);
    assert.deepEqual(splitPath('/'), []);
  });
});
