import { dirname } from 'node:path';
import type { FS } from '../../src/fs/FS.js';
import { MemoryFS } from '../../src/backends/memory.js';
import type { Logger } from '../../src/logger.js';
import type { SessionLimits } from '../../src/sftp/limits.js';
import { AuthResult, isKeyAllowed, safeEqual, type AuthMethod, type PublicKey } from '../../src/ssh/auth.js';
import { BaseSFTPServer, type BaseSFTPServerOptions } from '../../src/ssh/BaseSFTPServer.js';
import { clientKey, testHostKeyPath } from './keys.js';

/** The user test servers let in unless told otherwise. */
export const TEST_USER = 'tester';

/** Who a {@link TestSFTPServer} lets in: one user, by key and/or password. */
export interface TestAuth {
  username: string;
  keys: PublicKey[];
  password?: string;
}

/** A server that accepts one user with the given keys (and password, when set). */
export class TestSFTPServer extends BaseSFTPServer {
  constructor(options: BaseSFTPServerOptions, private readonly auth: TestAuth) {
    super(options);
  }

  override getAllowedAuths(): AuthMethod[] {
    return this.auth.password === undefined ? ['publickey'] : ['publickey', 'password'];
  }

  override checkAuthPublickey(username: string, key: PublicKey): AuthResult {
    return username === this.auth.username && isKeyAllowed(this.auth.keys, key) ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
  }

  override checkAuthPassword(username: string, password: string): AuthResult {
    const expected = this.auth.password;
    return expected !== undefined && username === this.auth.username && safeEqual(password, expected) ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
  }
}

export interface StartTestServerOptions {
  /** The filesystem served (default: a fresh MemoryFS). */
  fs?: FS;
  /** Build this server instead of a TestSFTPServer (its own hooks decide auth). */
  create?: (options: BaseSFTPServerOptions) => BaseSFTPServer;
  username?: string;
  /** Also accept this password for the user. */
  password?: string;
  limits?: Partial<SessionLimits>;
  logger?: Logger;
  home?: string;
}

export interface TestServer {
  port: number;
  fs: FS;
  server: BaseSFTPServer;
  /** Private key file of the client key the server accepts. */
  clientKeyPath: string;
  /** Stops the server and ends its connections. */
  close(): Promise<void>;
}

/**
 * Starts a real server on 127.0.0.1, port 0. Host key and client key are made
 * once per test process (see keys.ts); by default user {@link TEST_USER} gets
 * in with `clientKey()`.
 */
export async function startTestServer(options: StartTestServerOptions = {}): Promise<TestServer> {
  const fs = options.fs ?? new MemoryFS();
  const key = clientKey();
  const serverOptions: BaseSFTPServerOptions = {
    fs,
    hostKeys: [testHostKeyPath()],
    // Never the user's ~/.cache: anything the server keeps goes next to the test keys.
    stateDir: dirname(testHostKeyPath()),
    limits: options.limits,
    logger: options.logger,
    home: options.home,
  };
  const server = options.create
    ? options.create(serverOptions)
    : new TestSFTPServer(serverOptions, { username: options.username ?? TEST_USER, keys: [key.publicKey], password: options.password });
  const { port } = await server.listen(0, '127.0.0.1');
  return { port, fs, server, clientKeyPath: key.path, close: () => server.close() };
}
