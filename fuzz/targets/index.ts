import { decoderTarget } from './decoder.js';
import { framerTarget } from './framer.js';
import { plantedTarget } from './planted.js';
import { sessionTarget } from './session.js';
import type { FuzzTarget } from './types.js';

export type { FuzzTarget, InputShape } from './types.js';

/** The real targets, fuzzed by `npm run fuzz` and in CI. */
export const targets: FuzzTarget[] = [decoderTarget, framerTarget, sessionTarget];

/** Every target by name, the self-test included. */
export const targetsByName = new Map<string, FuzzTarget>([...targets, plantedTarget].map((target) => [target.name, target]));
