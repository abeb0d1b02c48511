import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { NetworkList } from '../auth/addressMatch.js';
import { parseAuthorizedKeysWithOptions, type AuthorizedKey } from '../auth/authorizedKeys.js';
import type { TotpSettings } from '../auth/totp.js';
import { parseBandwidthLimit, type BandwidthLimit } from '../defence/bandwidth.js';
import { PERMISSIONS, type Permission } from '../../fs/wrappers/permissions.js';
import { configSchema, type UserEntry } from './schema.js';

/** A config file that cannot be used; the message names the file and the bad field. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** One filesystem mounted into a user's tree. */
export interface UserMount {
  point: string;
  backend: string;
  readOnly: boolean;
}

/** A user of a {@link ServerConfig}, ready for the server: keys read, networks compiled, limits in bytes/s. */
export interface UserAccount {
  name: string;
  /** A hash in a format verifyPassword knows. */
  passwordHash?: string;
  /** A plain-text password (only when the config allows them). */
  plaintextPassword?: string;
  authorizedKeys: AuthorizedKey[];
  /** BACKEND shown as `/` (local folders already resolved against the config's folder). */
  home?: string;
  mounts: UserMount[];
  readOnly: boolean;
  /** Path → permissions granted under it (longest prefix wins); undefined: everything allowed. */
  permissions?: ReadonlyMap<string, ReadonlySet<Permission>>;
  maxSessions?: number;
  allowedNetworks?: NetworkList;
  /** Per-user bandwidth limits (applied by the server's limiter). */
  bandwidth: BandwidthLimit;
  totp?: TotpSettings;
}

/** A validated config: the users by name. */
export interface ServerConfig {
  users: ReadonlyMap<string, UserAccount>;
  /** Local folders publish uploads only once complete (see the config key). */
  atomicUploads: boolean;
  /** Where it came from, for logs. */
  source: string;
}

/** `users.alice.passwordHash: message` lines, one per issue. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      // A bad record key (a mount point, a permission path) carries the key schema's own messages inside.
      const message = issue.code === 'invalid_key' ? issue.issues.map((inner) => inner.message).join('; ') : issue.message;
      return `  ${issue.path.length > 0 ? issue.path.join('.') : '(top level)'}: ${message}`;
    })
    .join('\n');
}

/** A BACKEND that is a local folder, made absolute against the config file's folder (schemes pass through). */
function resolveBackend(spec: string, baseDir: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec)) return spec;
  if (spec === '~' || spec.startsWith('~/')) return resolve(homedir(), spec.slice(2));
  return isAbsolute(spec) ? spec : resolve(baseDir, spec);
}

function readKeysFile(file: string, where: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${where}: cannot read ${file}: ${(error as Error).message}`);
  }
}

function toAccount(name: string, entry: UserEntry, source: string, baseDir: string): UserAccount {
  const where = (key: string) => `${source}: users.${name}.${key}`;
  const authorizedKeys: AuthorizedKey[] = [];
  try {
    if (entry.authorizedKeys) authorizedKeys.push(...parseAuthorizedKeysWithOptions(entry.authorizedKeys.join('\n'), 'inline'));
  } catch (error) {
    throw new ConfigError(`${where('authorizedKeys')}: ${(error as Error).message}`);
  }
  if (entry.authorizedKeysFile !== undefined) {
    const file = resolveBackend(entry.authorizedKeysFile, baseDir);
    try {
      authorizedKeys.push(...parseAuthorizedKeysWithOptions(readKeysFile(file, where('authorizedKeysFile')), file));
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`${where('authorizedKeysFile')}: ${(error as Error).message}`);
    }
  }
  const permissions = entry.permissions
    ? new Map(Object.entries(entry.permissions).map(([path, granted]) => [path, new Set<Permission>(granted.includes('*') ? PERMISSIONS : (granted as Permission[]))]))
    : undefined;
  return {
    name,
    passwordHash: entry.passwordHash,
    plaintextPassword: entry.password,
    authorizedKeys,
    home: entry.home !== undefined ? resolveBackend(entry.home, baseDir) : undefined,
    mounts: Object.entries(entry.mounts ?? {}).map(([point, value]) =>
      typeof value === 'string'
        ? { point, backend: resolveBackend(value, baseDir), readOnly: false }
        : { point, backend: resolveBackend(value.backend, baseDir), readOnly: value.readOnly ?? false },
    ),
    readOnly: entry.readOnly ?? false,
    permissions,
    maxSessions: entry.maxSessions,
    allowedNetworks: entry.allowedNetworks ? new NetworkList(entry.allowedNetworks) : undefined,
    bandwidth: entry.bandwidth !== undefined ? parseBandwidthLimit(entry.bandwidth) : {},
    totp: entry.totp,
  };
}

/**
 * Validates a config already parsed (from YAML, JSON or code).
 * @param source Named in messages (the file path).
 * @param baseDir Relative folders and key files are found from here.
 * @throws ConfigError listing every bad field by its path.
 */
export function parseConfig(data: unknown, source = 'config', baseDir = process.cwd()): ServerConfig {
  const result = configSchema.safeParse(data);
  if (!result.success) throw new ConfigError(`${source} is not a valid config:\n${describeIssues(result.error.issues)}`);
  const users = new Map<string, UserAccount>();
  for (const [name, entry] of Object.entries(result.data.users)) users.set(name, toAccount(name, entry, source, baseDir));
  return { users, source, atomicUploads: result.data.atomicUploads ?? true };
}

/** Parses config text: JSON for a `.json` file, YAML otherwise (YAML also reads JSON). */
export function parseConfigText(text: string, source: string, baseDir: string): ServerConfig {
  let data: unknown;
  try {
    data = extname(source).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    throw new ConfigError(`${source} is not valid ${extname(source).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
  return parseConfig(data, source, baseDir);
}

/** Reads and validates a config file (YAML or JSON); relative paths in it are from its folder. */
export function loadConfig(file: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config ${file}: ${(error as Error).message}`);
  }
  return parseConfigText(text, file, dirname(resolve(file)));
}
