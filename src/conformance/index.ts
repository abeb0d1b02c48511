/**
 * The backend conformance suite: one behavioural specification every FS
 * backend must pass, published as `sftp-expose/conformance` so third-party
 * backends can run it too. Real POSIX behaviour (Linux, and what OpenSSH's
 * sftp-server reports) is the reference.
 *
 * ```ts
 * import { runConformanceSuite } from 'sftp-expose/conformance';
 * runConformanceSuite('MyFS', async () => ({ fs: new MyFS(), cleanup: async () => {} }), { symlinks: false });
 * ```
 */
import { describe } from 'node:test';
import { describeAttributes } from './attributes.js';
import { describeCapabilities } from './capabilities.js';
import { describeCreateRemove, describeListdir } from './directories.js';
import { describeOpen, describeReadWrite } from './files.js';
import { makeSpecifier, type ConformanceFactory, type ConformanceFeatures } from './harness.js';
import { describeNames } from './names.js';
import { describeRename } from './rename.js';
import { describeSymlinks } from './symlinks.js';

export type { ConformanceFeatures, ConformanceTarget } from './harness.js';

const allFeatures: ConformanceFeatures = {
  symlinks: true,
  permissions: true,
  ownership: true,
  randomAccessWrites: true,
  times: true,
  hardlinks: true,
};

/**
 * Registers the whole suite with `node:test` under `describe(name)`.
 *
 * `factory` is called once per test and must return an empty filesystem (or an
 * empty view of one, such as a fresh temporary directory); `cleanup`, when
 * given, runs after the test whatever its outcome. Features default to
 * supported; a feature set to `false` skips the tests that need it (with the
 * reason shown) and runs instead a check that the operation is refused with
 * `Unsupported` where the contract says so.
 */
export function runConformanceSuite(name: string, factory: ConformanceFactory, features: Partial<ConformanceFeatures> = {}): void {
  const spec = makeSpecifier(factory, { ...allFeatures, ...features });
  describe(name, () => {
    describeOpen(spec);
    describeReadWrite(spec);
    describeAttributes(spec);
    describeListdir(spec);
    describeCreateRemove(spec);
    describeRename(spec);
    describeSymlinks(spec);
    describeNames(spec);
    describeCapabilities(spec);
  });
}
