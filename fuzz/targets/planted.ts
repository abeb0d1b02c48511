import type { FuzzTarget } from './types.js';

/**
 * A target with a bug planted behind three nested byte comparisons: found in
 * seconds when coverage guides the search (each matching byte runs a new
 * block), practically never by blind mutation (1 in 2^24 per try). The CI
 * test runs it to prove the fuzzer can find a crash and that its coverage
 * feedback works.
 */
export const plantedTarget: FuzzTarget = {
  name: 'planted',
  description: 'self-test: a crash behind the bytes "SFT", reachable only with coverage feedback',
  shape: { prefix: 0, packets: 'body', maxLength: 64 },
  coverageScripts: /\/fuzz\/targets\/planted\.ts/,
  seeds: () => [Buffer.from('abc')],
  run(input) {
    if (input[0] === 0x53) {
      if (input[1] === 0x46) {
        if (input[2] === 0x54) throw new Error('planted bug reached');
      }
    }
  },
};
