/**
 * How a target's input is laid out, so structure-aware mutations know where
 * the packets are: `prefix` control bytes, then either one packet body (type
 * byte onwards) or a stream of length-prefixed packets.
 */
export interface InputShape {
  prefix: number;
  packets: 'body' | 'stream';
  /** Inputs are cut to this many bytes. */
  maxLength: number;
}

/** One thing to fuzz. `run` throws (or rejects) when an invariant breaks. */
export interface FuzzTarget {
  name: string;
  description: string;
  shape: InputShape;
  /** Valid inputs to start from, generated (see fuzz/seeds.ts). */
  seeds(): Buffer[];
  run(input: Buffer): void | Promise<void>;
  /** Whose block coverage guides the search, by script URL. Default: the library (src/). */
  coverageScripts?: RegExp;
}
