import type { BanList } from '../server/defence/BanList.js';
import type { WorkerPeers } from './serveWithWorkers.js';

interface AuthFailureMessage {
  authFailure: string;
}

/** The bans a worker holds, for a worker that has just started and asked (`bansWanted`). */
interface BansInForceMessage {
  bansInForce: Array<{ address: string; remainingMs: number }>;
}

/**
 * Bans across the workers of `serve --workers N`: each worker passes the
 * failed logins it counts to the others, which count them too. An address is
 * then banned after `--ban-after` failures in all the workers together, not
 * in each one, and by every worker at once (each logs it). A worker that
 * starts (a crashed one's replacement) asks the others for the bans in force
 * and takes them on; failures not yet at a ban stay with the workers that
 * counted them. Returns the worker's handler for its peers' messages.
 */
export function shareAuthFailures(banList: BanList | undefined, peers: WorkerPeers): (message: unknown) => void {
  if (!banList) return () => {};
  banList.onFailure((address) => peers.send({ authFailure: address } satisfies AuthFailureMessage));
  peers.send({ bansWanted: true });
  return (message) => {
    const { authFailure, bansWanted, bansInForce } = (message ?? {}) as Partial<AuthFailureMessage & BansInForceMessage & { bansWanted: true }>;
    if (typeof authFailure === 'string') banList.recordFailure(authFailure, 'peer');
    if (bansWanted === true) peers.send({ bansInForce: banList.bansInForce() } satisfies BansInForceMessage);
    if (Array.isArray(bansInForce)) for (const { address, remainingMs } of bansInForce) banList.adoptBan(address, remainingMs);
  };
}
