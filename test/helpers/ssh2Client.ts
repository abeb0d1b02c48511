import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import type { ConnectConfig, FileEntryWithStats, InputAttributes, OpenMode, SFTPWrapper, Stats, TransferOptions } from 'ssh2';

/** How the client logs in: ssh2's own connect options (username, privateKey, password, authHandler...), and the algorithms it offers. */
export type Ssh2Auth = Pick<ConnectConfig, 'username' | 'privateKey' | 'password' | 'authHandler' | 'tryKeyboard' | 'algorithms'>;

/** The promise-returning SFTP calls the tests use; errors carry ssh2's `code` (the SFTP status). */
export interface PromisedSftp {
  open(path: string, flags: OpenMode, attrs?: InputAttributes): Promise<Buffer>;
  close(handle: Buffer): Promise<void>;
  /** Reads up to `length` bytes at `position`; returns the bytes read (fewer at EOF). */
  read(handle: Buffer, length: number, position: number): Promise<Buffer>;
  write(handle: Buffer, data: Buffer, position: number): Promise<void>;
  stat(path: string): Promise<Stats>;
  lstat(path: string): Promise<Stats>;
  setstat(path: string, attrs: InputAttributes): Promise<void>;
  realpath(path: string): Promise<string>;
  readdir(path: string): Promise<FileEntryWithStats[]>;
  mkdir(path: string, attrs?: InputAttributes): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: Buffer | string): Promise<void>;
  fastGet(remote: string, local: string, options?: TransferOptions): Promise<void>;
  fastPut(local: string, remote: string, options?: TransferOptions): Promise<void>;
}

export interface Ssh2Connection {
  client: ssh2.Client;
  sftp: SFTPWrapper;
  p: PromisedSftp;
  /** Ends the connection; resolves when the socket has closed. */
  close(): Promise<void>;
}

/** Connects and logs in with ssh2's Client; rejects with the client's error (e.g. auth failure). */
export function connectClient(port: number, auth: Ssh2Auth): Promise<ssh2.Client> {
  const client = new ssh2.Client();
  return new Promise((resolve, reject) => {
    client.once('ready', () => {
      client.off('error', reject);
      resolve(client);
    });
    client.once('error', (error) => {
      client.end();
      reject(error);
    });
    client.connect({ host: '127.0.0.1', port, readyTimeout: 20_000, ...auth });
  });
}

/** Ends a client and waits for its socket to close. */
export function endClient(client: ssh2.Client): Promise<void> {
  return new Promise((resolve) => {
    client.once('close', () => resolve());
    client.end();
  });
}

/** An ssh2 Client logged in and its SFTP channel open. Call `close()` in `after`/`finally`. */
/**
 * Logs in and out again; true when the server let the client in, false when
 * authentication refused it. Any other failure (a reset, a timeout) throws, so
 * a test of refusal cannot pass because the server was not there at all.
 */
export async function canLogIn(port: number, auth: Ssh2Auth): Promise<boolean> {
  try {
    await endClient(await connectClient(port, auth));
    return true;
  } catch (error) {
    if (/authentication methods failed/i.test((error as Error).message)) return false;
    throw error;
  }
}

export async function connectSsh2(port: number, auth: Ssh2Auth): Promise<Ssh2Connection> {
  const client = await connectClient(port, auth);
  let sftp: SFTPWrapper;
  try {
    sftp = await promisify(client.sftp.bind(client))();
  } catch (error) {
    await endClient(client);
    throw error;
  }
  return { client, sftp, p: promised(sftp), close: () => endClient(client) };
}

function promised(sftp: SFTPWrapper): PromisedSftp {
  const call = <T>(start: (done: (error: Error | undefined | null, value?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))));
  return {
    open: (path, flags, attrs = {}) => call((done) => sftp.open(path, flags, attrs, done)),
    close: (handle) => call((done) => sftp.close(handle, done)),
    read: (handle, length, position) =>
      call((done) => sftp.read(handle, Buffer.alloc(length), 0, length, position, (error, bytesRead, buffer) => done(error, buffer?.subarray(0, bytesRead)))),
    write: (handle, data, position) => call((done) => sftp.write(handle, data, 0, data.length, position, done)),
    stat: (path) => call((done) => sftp.stat(path, done)),
    lstat: (path) => call((done) => sftp.lstat(path, done)),
    setstat: (path, attrs) => call((done) => sftp.setstat(path, attrs, done)),
    realpath: (path) => call((done) => sftp.realpath(path, done)),
    readdir: (path) => call((done) => sftp.readdir(path, done)),
    mkdir: (path, attrs = {}) => call((done) => sftp.mkdir(path, attrs, done)),
    rename: (from, to) => call((done) => sftp.rename(from, to, done)),
    unlink: (path) => call((done) => sftp.unlink(path, done)),
    readFile: (path) => call((done) => sftp.readFile(path, (error, data) => done(error, data))),
    writeFile: (path, data) => call((done) => sftp.writeFile(path, data, done)),
    fastGet: (remote, local, options = {}) => call((done) => sftp.fastGet(remote, local, options, done)),
    fastPut: (local, remote, options = {}) => call((done) => sftp.fastPut(local, remote, options, done)),
  };
}
