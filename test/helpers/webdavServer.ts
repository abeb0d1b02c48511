import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import webdav from 'webdav-server';
import { requireTool } from './requireTool.js';
import { TEST_TLS_FILES } from './testTls.js';

const { v2 } = webdav;

/** A WebDAV server running for a test, on 127.0.0.1. */
export interface RunningWebDAVServer {
  /** Base URL, ending in `/`. */
  url: string;
  stop(): Promise<void>;
}

/** Credentials a server demands (HTTP Basic), when given. */
export interface WebDAVServerAuth {
  username: string;
  password: string;
}

/**
 * The npm `webdav-server` (v2) in this process, serving `directory` from disk
 * (PhysicalFileSystem) or, without one, an in-memory tree.
 */
export async function startNpmWebDAVServer(options: { directory?: string; auth?: WebDAVServerAuth; readOnly?: boolean } = {}): Promise<RunningWebDAVServer> {
  const serverOptions: ConstructorParameters<typeof v2.WebDAVServer>[0] = {};
  if (options.directory !== undefined) serverOptions.rootFileSystem = new v2.PhysicalFileSystem(options.directory);
  if (options.auth || options.readOnly) {
    const auth = options.auth ?? { username: 'reader', password: 'reader' };
    const users = new v2.SimpleUserManager();
    const user = users.addUser(auth.username, auth.password, false);
    const privileges = new v2.SimplePathPrivilegeManager();
    privileges.setRights(user, '/', options.readOnly ? ['canRead'] : ['all']);
    // Read-only without credentials: the anonymous default user gets the read rights.
    if (!options.auth) users.getDefaultUser((anonymous) => privileges.setRights(anonymous, '/', ['canRead']));
    Object.assign(serverOptions, {
      requireAuthentification: options.auth !== undefined,
      httpAuthentication: new v2.HTTPBasicAuthentication(users, 'test'),
      privilegeManager: privileges,
    });
  }
  const dav = new v2.WebDAVServer(serverOptions);
  // Our own http.Server: port 0, and a close that waits for the sockets.
  const http: Server = createServer((req, res) => dav.executeRequest(req, res));
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    async stop() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A port free right now (rclone wants a number, not 0). */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Skip reason when rclone is missing outside CI (requireTool throws in CI). */
export function rcloneMissing(): string | false {
  return requireTool('rclone');
}

/**
 * `rclone serve webdav <directory>` (Debian's rclone), started as a child
 * process on a free port; resolves once it logs that it serves.
 */
export async function startRcloneWebDAVServer(directory: string, options: { auth?: WebDAVServerAuth; readOnly?: boolean; tls?: boolean } = {}): Promise<RunningWebDAVServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const args = ['serve', 'webdav', directory, '--addr', `127.0.0.1:${port}`, '--config', ''];
    if (options.auth) args.push('--user', options.auth.username, '--pass', options.auth.password);
    if (options.tls) args.push('--cert', TEST_TLS_FILES.cert, '--key', TEST_TLS_FILES.key);
    if (options.readOnly) args.push('--read-only');
    const child = spawn('rclone', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const started = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`rclone serve webdav did not start within 15 s:\n${log}`)), 15_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (/Server started on|Serving on/i.test(log)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (started) {
      return {
        url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/`,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
    // Another process may have taken the port between the probe and rclone's bind.
    if (attempt >= 3 || !/address already in use/i.test(log)) throw new Error(`rclone serve webdav failed:\n${log}`);
  }
}
