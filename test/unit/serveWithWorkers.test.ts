/**
 * serveWithWorkers (src/cluster/serveWithWorkers.ts): peers' news that reaches
 * a worker while its server is still starting is given to the server once it
 * has started (a replacement worker asks its peers for their counts and bans
 * as it starts; their answers can come back before it is done).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const FIXTURE = fileURLToPath(new URL('../fixtures/peerNewsDuringStart.ts', import.meta.url));

describe('serveWithWorkers', () => {
  it('keeps peers\' news that arrives while a worker starts, and gives it to the worker once started', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 40_000;
      while (!/the slow worker got an answer/.test(output) && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.match(output, /the slow worker got an answer from \d+/);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output);
    }
  });
});
