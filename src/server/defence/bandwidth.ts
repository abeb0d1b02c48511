import { systemClock, type Clock } from './clock.js';
import { TokenBucket } from './tokenBucket.js';

/**
 * Bytes per second, each direction as the SFTP client sees it: `upload` is
 * what it writes, `download` what it reads. Absent or 0: unlimited.
 */
export interface BandwidthLimit {
  upload?: number;
  download?: number;
}

/** A `--bwlimit` value that is not one rclone would accept (or one we don't support). */
export class BandwidthSyntaxError extends Error {
  override name = 'BandwidthSyntaxError';
}

const UNIT_SHIFT: Readonly<Record<string, number>> = { b: 0, k: 10, m: 20, g: 30, t: 40, p: 50 };

/**
 * One rclone size: a number with an optional binary suffix (B, K, M, G, T, P;
 * `Ki`/`KiB` also read), KiB when there is none, as rclone's `--bwlimit`;
 * `off` is unlimited (0).
 */
export function parseBandwidthRate(text: string): number {
  const value = text.trim();
  if (/^off$/i.test(value) || value === '') return 0;
  const match = /^(\d+(?:\.\d+)?|\.\d+)([bkmgtp])?(?:i?b)?$/i.exec(value);
  if (!match) throw new BandwidthSyntaxError(`invalid bandwidth "${text}": expected a number with an optional B, K, M, G, T or P suffix (KiB/s when none), or "off"`);
  const shift = UNIT_SHIFT[(match[2] ?? 'k').toLowerCase()]!;
  return Math.floor(Number(match[1]) * 2 ** shift);
}

/**
 * rclone's `--bwlimit` syntax: `10M` (both directions), `UP:DOWN` such as
 * `1.5M:512k` or `off:1M`, or `off`. rclone's timetables (`08:00,512k ...`)
 * are refused rather than half-understood.
 */
export function parseBandwidthLimit(text: string): BandwidthLimit {
  if (/[, ]/.test(text.trim())) throw new BandwidthSyntaxError(`bandwidth timetables are not supported: "${text}" (give one limit, or UP:DOWN)`);
  const parts = text.split(':');
  if (parts.length > 2) throw new BandwidthSyntaxError(`invalid bandwidth "${text}": expected RATE or UP:DOWN`);
  const upload = parseBandwidthRate(parts[0]!);
  const download = parts.length === 2 ? parseBandwidthRate(parts[1]!) : upload;
  return { upload, download };
}

/** True when the limit restricts something. */
export function isLimited(limit: BandwidthLimit | undefined): boolean {
  return !!limit && ((limit.upload ?? 0) > 0 || (limit.download ?? 0) > 0);
}

/** The buckets one session draws from; `release()` when it ends. */
export interface SessionBuckets {
  upload: TokenBucket[];
  download: TokenBucket[];
  release(): void;
}

interface UserBuckets {
  upload?: TokenBucket;
  download?: TokenBucket;
  sessions: number;
}

/**
 * The server's buckets: one global pair (`--bwlimit`) shared by every session,
 * and one pair per user with a limit, shared by all of that user's sessions
 * (so opening more sessions does not buy more bandwidth).
 */
export class BandwidthLimiter {
  private readonly globalUpload?: TokenBucket;
  private readonly globalDownload?: TokenBucket;
  private readonly users = new Map<string, UserBuckets>();

  constructor(global: BandwidthLimit = {}, readonly clock: Clock = systemClock) {
    if (global.upload) this.globalUpload = new TokenBucket(global.upload, undefined, clock);
    if (global.download) this.globalDownload = new TokenBucket(global.download, undefined, clock);
  }

  /** Whether any session could be throttled (global limit set); per-user limits are checked per session. */
  get hasGlobalLimit(): boolean {
    return !!(this.globalUpload || this.globalDownload);
  }

  /** Buckets for a new session of `username` whose own limit is `userLimit`. */
  acquire(username: string, userLimit?: BandwidthLimit): SessionBuckets {
    // Keyed by the rates too: after a reload changes a user's limit, new sessions get the new rates.
    const key = `${username}\0${userLimit?.upload ?? 0}:${userLimit?.download ?? 0}`;
    let user: UserBuckets | undefined;
    if (isLimited(userLimit)) {
      user = this.users.get(key);
      if (!user) {
        user = {
          upload: userLimit!.upload ? new TokenBucket(userLimit!.upload, undefined, this.clock) : undefined,
          download: userLimit!.download ? new TokenBucket(userLimit!.download, undefined, this.clock) : undefined,
          sessions: 0,
        };
        this.users.set(key, user);
      }
      user.sessions++;
    }
    const present = (...buckets: Array<TokenBucket | undefined>) => buckets.filter((b): b is TokenBucket => b !== undefined);
    let released = false;
    return {
      upload: present(this.globalUpload, user?.upload),
      download: present(this.globalDownload, user?.download),
      release: () => {
        if (released || !user) return;
        released = true;
        if (--user.sessions === 0) this.users.delete(key);
      },
    };
  }
}
