import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { reportedPackages, REPORT_PACKAGES } from '../helpers/packageReport.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LARGE_DEPENDENCIES = ['@aws-sdk/client-s3', 'webdav', 'yaml', '@node-rs/argon2', 'prom-client', '@opentelemetry/api'];

/** Imports `specifier` (the built package, by its own name) in a fresh node; its export names and the packages it loaded. */
function importFresh(specifier: string): { exports: string[]; packages: string[] } {
  const script = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)));`;
  const run = spawnSync(process.execPath, ['--import', REPORT_PACKAGES, '--input-type=module', '-e', script], { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  return { exports: JSON.parse(run.stdout) as string[], packages: reportedPackages(run.stderr) };
}

describe('package entry points', () => {
  it('sftp-expose/core has what a server over the local disk or memory needs, and loads none of the large dependencies', () => {
    const core = importFresh('sftp-expose/core');
    for (const name of ['BaseSFTPServer', 'AuthResult', 'safeEqual', 'parseAuthorizedKeys', 'isKeyAllowed', 'LocalFS', 'NodeFS', 'MemoryFS', 'FS', 'SFTPServerInterface', 'Session', 'SFTPFS']) {
      assert.ok(core.exports.includes(name), `sftp-expose/core exports ${name}`);
    }
    assert.ok(core.packages.includes('ssh2'), `the report sees what is loaded: ${core.packages.join(', ')}`);
    for (const large of LARGE_DEPENDENCIES) assert.ok(!core.packages.includes(large), `${large} loaded by sftp-expose/core`);
  });

  it('sftp-expose exports everything sftp-expose/core does, and the backends and servers beyond it', () => {
    const core = importFresh('sftp-expose/core');
    const all = importFresh('sftp-expose');
    assert.deepEqual(core.exports.filter((name) => !all.exports.includes(name)), []);
    for (const name of ['S3FS', 'WebDAVFS', 'MultiUserServer', 'ServerMetrics', 'hashPassword']) assert.ok(all.exports.includes(name), `sftp-expose exports ${name}`);
  });
});
