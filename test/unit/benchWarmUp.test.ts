import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOptions, type BenchOptions } from '../../bench/options.js';
import { summarise, warmUpTable } from '../../bench/report.js';

function options(argv: string[]): BenchOptions {
  const parsed = parseOptions(argv);
  assert.notEqual(parsed, 'help');
  return parsed as BenchOptions;
}

describe('bench warm-up rounds', () => {
  it('one warm-up round by default, none with --quick, and any count given (0 included)', () => {
    assert.equal(options([]).warmUpRounds, 1);
    assert.equal(options(['--quick']).warmUpRounds, 0);
    assert.equal(options(['--warm-up-rounds', '0']).warmUpRounds, 0);
    assert.equal(options(['--quick', '--warm-up-rounds', '2']).warmUpRounds, 2);
    assert.throws(() => parseOptions(['--warm-up-rounds=-1']), /--warm-up-rounds must be an integer >= 0/);
    assert.throws(() => parseOptions(['--warm-up-rounds', 'one']), /--warm-up-rounds must be an integer >= 0/);
  });

  it('the warm-up table shows every warm-up round of each server with the CPU stolen during it', () => {
    const results = summarise({ W4: { openssh: [3.14, 2.5], 'sftp-expose': [4.5, 3.01] } });
    const table = warmUpTable(results, { W4: { openssh: [0.4, 0], 'sftp-expose': [1.26, 0.04] } });
    const row = table.split('\n').find((line) => line.startsWith('| W4'));
    assert.equal(row, '| W4 get -r small files | 3.14 (0.4) / 2.50 (0.0) | n/a | 4.50 (1.3) / 3.01 (0.0) |');
  });
});
