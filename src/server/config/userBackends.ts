import type { UserAccount } from './loadConfig.js';

/** Every BACKEND a user's tree is made of: the home, then each mount's. */
export function userBackendSpecs(user: UserAccount): string[] {
  return [...(user.home !== undefined ? [user.home] : []), ...user.mounts.map((mount) => mount.backend)];
}
