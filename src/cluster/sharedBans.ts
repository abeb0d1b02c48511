import type { BanList } from '../server/defence/BanList.js';
import type { WorkerPeers } from './serveWithWorkers.js';

interface AuthFailureMessage {
  authFailure: string;
}

/**
 * Bans across the workers of `serve --workers N`: each worker passes the
 * failed logins it counts to the others, which count them too. An address is
 * then banned after `--ban-after` failures in all the workers together, not
 * in each one, and by every worker at once (each logs it). Returns the
 * worker's handler for its peers' messages.
 */
export function shareAuthFailures(banList: BanList | undefined, peers: WorkerPeers): (message: unknown) => void {
  if (!banList) return () => {};
  banList.onFailure((address) => peers.send({ authFailure: address } satisfies AuthFailureMessage));
  return (message) => {
    const address = (message as Partial<AuthFailureMessage> | null)?.authFailure;
    if (typeof address === 'string') banList.recordFailure(address, 'peer');
  };
}
