import { WebDAVFS } from '../backends/webdav/WebDAVFS.js';
import { certificateHint, readCaCertificates } from './caCertificates.js';
import { UsageError } from './serveOptions.js';

type Flags = Readonly<Record<string, string | boolean | string[] | undefined>>;

function flagOrEnv(flags: Flags, flag: string, env: string): string | undefined {
  const value = flags[flag];
  if (typeof value === 'string') return value;
  return process.env[env] || undefined;
}

/**
 * Opens `webdav+https://[user[:pass]@]host/path` (or `webdav+http://`) for
 * the CLI. Credentials come from `--webdav-user`/`--webdav-pass` or
 * `--webdav-bearer-token`, else the SFTP_EXPOSE_WEBDAV_* environment, else
 * the URL's user info; `--ca-cert` adds CAs to trust over HTTPS. The server is asked once (PROPFIND of the root), so a
 * wrong URL or password stops the CLI at start with a clear message.
 */
export async function openWebDAVBackend(spec: string, flags: Flags): Promise<WebDAVFS> {
  const match = /^webdav\+(https?):\/\/(.*)$/i.exec(spec);
  if (!match) throw new UsageError(`invalid WebDAV backend "${spec}": expected webdav+https://host/path or webdav+http://host/path`);
  let url: URL;
  try {
    url = new URL(`${match[1]!.toLowerCase()}://${match[2]}`);
  } catch {
    throw new UsageError(`invalid WebDAV backend "${spec}": not a URL`);
  }
  const fromUrl = { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) };
  url.username = '';
  url.password = '';
  const username = flagOrEnv(flags, 'webdav-user', 'SFTP_EXPOSE_WEBDAV_USER') ?? (fromUrl.user || undefined);
  const password = flagOrEnv(flags, 'webdav-pass', 'SFTP_EXPOSE_WEBDAV_PASS') ?? (fromUrl.pass || undefined);
  const bearerToken = flagOrEnv(flags, 'webdav-bearer-token', 'SFTP_EXPOSE_WEBDAV_BEARER_TOKEN');
  if (bearerToken !== undefined && username !== undefined) throw new UsageError('give --webdav-bearer-token or --webdav-user/--webdav-pass, not both');
  if (password !== undefined && username === undefined) throw new UsageError('--webdav-pass needs --webdav-user');
  const fs = new WebDAVFS({ url: url.href, username, password, bearerToken, caCertificates: readCaCertificates(flags) });
  try {
    const root = await fs.stat('/');
    if (root.type !== 'directory') throw new Error('the URL names a file, not a collection');
  } catch (error) {
    await fs.close();
    throw new Error(`cannot use WebDAV backend ${url.href}: ${(error as Error).message}${certificateHint(error)}`);
  }
  return fs;
}
