import { z } from 'zod';
import { PERMISSIONS } from '../../fs/wrappers/permissions.js';
import { NetworkList } from '../auth/addressMatch.js';
import { hashAlgorithm } from '../auth/passwordHash.js';
import { decodeBase32 } from '../auth/totp.js';
import { parseBandwidthLimit } from '../defence/bandwidth.js';


/** Wraps a checking function as a zod refinement whose message is the thrown error's. */
function checkedBy(check: (value: string) => unknown) {
  return (value: string, ctx: z.RefinementCtx) => {
    try {
      check(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  };
}

const absolutePath = z.string().startsWith('/', 'must be an absolute path such as "/uploads"').refine((path) => !path.includes('\0'), 'must not contain a NUL byte');
const backend = z.string().min(1, 'must be a BACKEND: a folder, memory:, s3://bucket/prefix, sftp://..., webdav+https://...');

const mountSchema = z.union([backend, z.strictObject({ backend, readOnly: z.boolean().optional() })]);

const permissionList = z.array(z.enum([...PERMISSIONS, '*'])).describe('permissions');

const totpSchema = z.strictObject({
  secret: z.string().superRefine(checkedBy((secret) => {
    if (decodeBase32(secret).length < 10) throw new Error('the secret must be at least 80 bits (16 base32 characters)');
  })),
  digits: z.number().int().min(6).max(10).optional(),
  period: z.number().int().min(1).max(300).optional(),
  algorithm: z.enum(['sha1', 'sha256', 'sha512']).optional(),
  window: z.number().int().min(0).max(10).optional(),
});

export const userSchema = z.strictObject({
  /** `$scrypt$...`, `$2b$...` (bcrypt) or `$argon2id$...`, from `sftp-expose hash-password`. */
  passwordHash: z.string().superRefine(checkedBy(hashAlgorithm)).optional(),
  /** A plain-text password: refused unless the top-level allowPlaintextPasswords is true. */
  password: z.string().min(1).optional(),
  /** authorized_keys lines (OpenSSH format, options such as from= included). */
  authorizedKeys: z.array(z.string()).optional(),
  /** An authorized_keys file, relative to the config file's folder. */
  authorizedKeysFile: z.string().min(1).optional(),
  /** The user's filesystem as `/` (a BACKEND string). Default: none, only mounts. */
  home: backend.optional(),
  /** Further filesystems at mount points. */
  mounts: z.record(absolutePath, mountSchema).optional(),
  readOnly: z.boolean().optional(),
  /** Per-path permissions, longest prefix wins; paths without a rule get every permission. */
  permissions: z.record(absolutePath, permissionList).optional(),
  maxSessions: z.number().int().positive().optional(),
  /** Networks (CIDR, IPv4 or IPv6) the user may connect from; default anywhere. */
  allowedNetworks: z.array(z.string()).min(1).superRefine((networks, ctx) => {
    networks.forEach((network, index) => {
      try {
        new NetworkList([network]);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message, path: [index] });
      }
    });
  }).optional(),
  /** rclone --bwlimit syntax: `10M` or `UP:DOWN` (`1.5M:512k`). */
  bandwidth: z.string().superRefine(checkedBy(parseBandwidthLimit)).optional(),
  /** A TOTP second factor, asked by keyboard-interactive after the password or key. */
  totp: totpSchema.optional(),
});

/** A user name SSH can carry and logs can show: no control characters, no slash. */
const USER_NAME = /^[^\s/\\:\x00-\x1f]{1,64}$/;

export const configSchema = z
  .strictObject({
    /** Allow `password:` in plain text (for tests and throwaway setups only). */
    allowPlaintextPasswords: z.boolean().optional(),
    /**
     * Local folders publish an upload only when it completes (written under a
     * hidden name, renamed into place, deleted if cut off). Default true: a
     * production server never shows a half-written file; false writes in
     * place as OpenSSH does (and lets `put -a` resume).
     */
    atomicUploads: z.boolean().optional(),
    users: z.record(z.string(), userSchema),
  })
  .superRefine((config, ctx) => {
    for (const [name, user] of Object.entries(config.users)) {
      const at = (key: string) => ['users', name, key];
      if (!USER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['users', name], message: 'a user name is 1-64 characters without spaces, slashes, colons or control characters' });
      if (user.password !== undefined && !config.allowPlaintextPasswords) {
        ctx.addIssue({ code: 'custom', path: at('password'), message: 'plain-text passwords are refused: use passwordHash (make one with `sftp-expose hash-password`), or set allowPlaintextPasswords: true' });
      }
      if (user.password !== undefined && user.passwordHash !== undefined) {
        ctx.addIssue({ code: 'custom', path: at('password'), message: 'give password or passwordHash, not both' });
      }
      const hasKeys = user.authorizedKeys !== undefined || user.authorizedKeysFile !== undefined;
      if (user.password === undefined && user.passwordHash === undefined && !hasKeys) {
        ctx.addIssue({ code: 'custom', path: ['users', name], message: 'the user has no way to log in: give passwordHash and/or authorizedKeys/authorizedKeysFile' });
      }
      if (user.home === undefined && (user.mounts === undefined || Object.keys(user.mounts).length === 0)) {
        ctx.addIssue({ code: 'custom', path: ['users', name], message: 'the user has no filesystem: give home (a BACKEND) and/or mounts' });
      }
    }
  });

/** A config file as written, validated. */
export type ConfigFile = z.infer<typeof configSchema>;
export type UserEntry = z.infer<typeof userSchema>;
