import { isAbsolute, resolve } from 'node:path';
import { revealObscured } from './obscure.js';

/** A backend as the server opens one: a BACKEND string and the flags that go with it (as on the CLI). */
export interface BackendRequest {
  spec: string;
  flags: Record<string, string | boolean>;
}

/** What an auth proxy program printed: rclone backend config, every value a string. */
export type RcloneConfig = Readonly<Record<string, string>>;

/** The rclone backend types an auth proxy may name, and the keys each reads. */
export const PROXY_BACKEND_TYPES = ['local', 'memory', 's3', 'sftp', 'webdav'] as const;

/**
 * Reads a secret the way an rclone backend reads it: options rclone stores
 * obscured (sftp and webdav `pass`, `key_file_pass`) are revealed. The proxy
 * program wrote them in plain text when it listed them in `_obscure` (rclone
 * obscures those for it), so those are taken as they are.
 */
function secret(config: RcloneConfig, key: string, plainKeys: ReadonlySet<string>): string | undefined {
  const value = config[key];
  if (value === undefined || value === '') return undefined;
  if (plainKeys.has(key)) return value;
  try {
    return revealObscured(value);
  } catch (error) {
    throw new Error(`"${key}" is not obscured (list it in "_obscure" to give it in plain text): ${(error as Error).message}`);
  }
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(true|1|yes)$/i.test(value);
}

/**
 * Maps an auth proxy's rclone config (`type`, `_root`, backend options) to
 * one of our backends. Keys read per type:
 *
 * - `local`: `_root` (a folder; relative to the server's working directory).
 * - `memory`: nothing (`_root` ignored); one fresh filesystem per cached login.
 * - `sftp`: `host`, `user`, `port`, `pass`, `key_file`, `key_file_pass`,
 *   `known_hosts_file`; `_root` relative to the login directory, or absolute.
 *   The upstream host key must be in `known_hosts_file` (default
 *   ~/.ssh/known_hosts) — stricter than rclone, which checks nothing without one.
 * - `webdav`: `url`, `user`, `pass`, `bearer_token`; `_root` appended to the URL path.
 * - `s3`: `_root` is `bucket/prefix`; `endpoint`, `region`, `access_key_id`,
 *   `secret_access_key`, `force_path_style`, `use_unsigned_payload`.
 *
 * @throws Error naming what is missing or unsupported.
 */
export function backendFromRcloneConfig(config: RcloneConfig): BackendRequest {
  const type = config.type;
  const root = config._root ?? '';
  const plainKeys = new Set((config._obscure ?? '').split(',').map((key) => key.trim()).filter(Boolean));
  switch (type) {
    case 'local':
      return { spec: isAbsolute(root) ? root : resolve(root === '' ? '.' : root), flags: {} };
    case 'memory':
      return { spec: 'memory:', flags: {} };
    case 'sftp': {
      if (!config.host) throw new Error('sftp: "host" is missing');
      const user = config.user ? `${encodeURIComponent(config.user)}@` : '';
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      const port = config.port ? `:${config.port}` : '';
      const path = root === '' ? '/~' : root.startsWith('/') ? root : `/~/${root}`;
      const flags: Record<string, string | boolean> = {};
      const pass = secret(config, 'pass', plainKeys);
      if (pass !== undefined) flags['sftp-pass'] = pass;
      if (config.key_file) flags['sftp-key-file'] = config.key_file;
      const passphrase = secret(config, 'key_file_pass', plainKeys);
      if (passphrase !== undefined) flags['sftp-key-file-pass'] = passphrase;
      if (config.known_hosts_file) flags['sftp-known-hosts-file'] = config.known_hosts_file;
      return { spec: `sftp://${user}${host}${port}${path.split('/').map(encodeURIComponent).join('/')}`, flags };
    }
    case 'webdav': {
      if (!config.url) throw new Error('webdav: "url" is missing');
      const url = new URL(config.url);
      if (root !== '') url.pathname = `${url.pathname.replace(/\/$/, '')}/${root.replace(/^\//, '')}`;
      const flags: Record<string, string | boolean> = {};
      if (config.user) flags['webdav-user'] = config.user;
      const pass = secret(config, 'pass', plainKeys);
      if (pass !== undefined) flags['webdav-pass'] = pass;
      if (config.bearer_token) flags['webdav-bearer-token'] = config.bearer_token;
      return { spec: `webdav+${url.href}`, flags };
    }
    case 's3': {
      if (root === '' || root === '/') throw new Error('s3: "_root" must name a bucket (bucket/prefix)');
      const flags: Record<string, string | boolean> = {};
      if (config.endpoint) flags['s3-endpoint'] = config.endpoint;
      if (config.region) flags['s3-region'] = config.region;
      if (config.access_key_id) flags['s3-access-key-id'] = config.access_key_id;
      if (config.secret_access_key) flags['s3-secret-access-key'] = config.secret_access_key;
      if (truthy(config.force_path_style)) flags['s3-force-path-style'] = true;
      // Unset keeps the default (unsigned only over HTTPS); a value is checked as the CLI flag is.
      if (config.use_unsigned_payload) flags['s3-use-unsigned-payload'] = config.use_unsigned_payload;
      return { spec: `s3://${root.replace(/^\//, '')}`, flags };
    }
    default:
      throw new Error(`unsupported backend type ${JSON.stringify(type)}: expected one of ${PROXY_BACKEND_TYPES.join(', ')}`);
  }
}
