/** The node options a server process runs with (src/cluster/serverNodeFlags.ts) and the CLI launcher that applies them. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SERVER_NODE_FLAGS, withServerNodeFlags } from '../../src/cluster/serverNodeFlags.js';

describe('server node options', () => {
  it('are added to options that lack them, after nothing and before the rest', () => {
    assert.deepEqual(withServerNodeFlags([]), [...SERVER_NODE_FLAGS]);
    assert.deepEqual(withServerNodeFlags(['--import', 'tsx']), [...SERVER_NODE_FLAGS, '--import', 'tsx']);
  });

  it('leave a value given explicitly alone, in either spelling of the name', () => {
    assert.deepEqual(withServerNodeFlags(['--initial-old-space-size=128']), ['--initial-old-space-size=128']);
    assert.deepEqual(withServerNodeFlags(['--initial_old_space_size=32', '--enable-source-maps']), ['--initial_old_space_size=32', '--enable-source-maps']);
  });

  it('are exactly what the CLI launcher (the shell lines atop src/cli/main.ts) starts node with', () => {
    const [hashbang, launcher] = readFileSync(new URL('../../src/cli/main.ts', import.meta.url), 'utf8').split('\n');
    assert.equal(hashbang, '#!/bin/sh');
    assert.equal(launcher, `//bin/sh -c :; exec node ${SERVER_NODE_FLAGS.join(' ')} "$0" "$@"`);
  });
});
