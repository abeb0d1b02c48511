import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import { LocalFS } from '../../src/backends/local.js';
import { openBackend } from '../../src/cli/backendUrl.js';
import { UsageError, formatListenAddress, parseListenAddress, parseServeOptions } from '../../src/cli/serveOptions.js';
import { silentLogger } from '../../src/logger.js';
import { makeTempDir } from './cliProcess.js';

describe('--addr parsing', () => {
  for (const [text, host, port] of [
    ['localhost:2022', 'localhost', 2022],
    [':2022', '', 2022],
    ['0.0.0.0:2022', '0.0.0.0', 2022],
    ['[::1]:2022', '::1', 2022],
    ['[::]:22', '::', 22],
    ['127.0.0.1:0', '127.0.0.1', 0],
  ] as const) {
    it(`${text} is host "${host}", port ${port}`, () => {
      assert.deepEqual(parseListenAddress(text), { host, port });
    });
  }

  for (const text of ['', '2022', 'host', 'host:', 'host:-1', 'host:65536', '::1:2022', '[::1]', 'a:b:c']) {
    it(`"${text}" is refused`, () => {
      assert.throws(() => parseListenAddress(text), UsageError);
    });
  }

  it('brackets IPv6 addresses when formatting', () => {
    assert.equal(formatListenAddress('::1', 22), '[::1]:22');
    assert.equal(formatListenAddress('127.0.0.1', 22), '127.0.0.1:22');
  });
});

describe('serve options', () => {
  it('defaults to localhost:2022, info logs, writable, no auth configured', () => {
    const options = parseServeOptions(['--authorized-keys', '/dev/null']);
    assert.notEqual(options, 'help');
    if (options === 'help') return;
    assert.deepEqual(options.address, { host: 'localhost', port: 2022 });
    assert.equal(options.logLevel, 'info');
    assert.equal(options.readOnly, false);
    assert.equal(options.noAuth, false);
    assert.equal(options.backend, undefined);
  });

  it('-v means debug; --log-level wins over it', () => {
    const verbose = parseServeOptions(['-v', '--no-auth']);
    assert.equal(verbose !== 'help' && verbose.logLevel, 'debug');
    const both = parseServeOptions(['-v', '--log-level', 'warn', '--no-auth']);
    assert.equal(both !== 'help' && both.logLevel, 'warn');
  });

  it('--help is answered before any other check', () => {
    assert.equal(parseServeOptions(['--help', '--authorized-keys', '/no/such/file']), 'help');
  });

  it('collects repeated --key flags', () => {
    const options = parseServeOptions(['--no-auth', '--key', '/dev/null', '--key', '/dev/null']);
    assert.deepEqual(options !== 'help' && options.hostKeyFiles, ['/dev/null', '/dev/null']);
  });
});

describe('BACKEND argument', () => {
  const context = { logger: silentLogger };

  it('omitted or memory: is a fresh MemoryFS', async () => {
    assert.ok((await openBackend(undefined, context)) instanceof MemoryFS);
    assert.ok((await openBackend('memory:', context)) instanceof MemoryFS);
    assert.ok((await openBackend('MEMORY:', context)) instanceof MemoryFS);
  });

  it('memory: with anything after it is refused', async () => {
    await assert.rejects(openBackend('memory:/sub', context), UsageError);
  });

  it('an unknown scheme:// is refused, naming the known ones', async () => {
    await assert.rejects(openBackend('ftp://host/path', context), /unknown backend "ftp:".*memory:/);
  });

  it('a folder is a LocalFS rooted there', async () => {
    const temp = await makeTempDir();
    try {
      const fs = await openBackend(temp.path, context);
      assert.ok(fs instanceof LocalFS);
      await fs.writeFile('/x', 'y');
      assert.equal((await fs.listdirAll('/')).map((entry) => entry.name).join(), 'x');
    } finally {
      await temp.cleanup();
    }
  });
});
