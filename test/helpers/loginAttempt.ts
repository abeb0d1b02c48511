import type { Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { ConnectConfig } from 'ssh2';

/** How a login attempt ended: logged in or not, and every error the client reported on the way. */
export interface LoginOutcome {
  loggedIn: boolean;
  errors: string[];
}

/**
 * Tries to log in and waits until the connection has closed, collecting every
 * error: a refused connection reports several (a reset, then "Connection lost
 * before handshake"), which a one-shot listener would leave uncaught.
 * `sock` connects over an existing socket (one that sent a PROXY header).
 */
export function attemptLogin(port: number, auth: Pick<ConnectConfig, 'username' | 'password'>, sock?: Socket): Promise<LoginOutcome> {
  const client = new ssh2.Client();
  const outcome: LoginOutcome = { loggedIn: false, errors: [] };
  return new Promise((resolve) => {
    client.on('ready', () => {
      outcome.loggedIn = true;
      client.end();
    });
    client.on('error', (error) => {
      outcome.errors.push(error.message);
      client.end();
    });
    client.once('close', () => resolve(outcome));
    client.connect({ host: '127.0.0.1', port, readyTimeout: 10_000, ...auth, ...(sock ? { sock } : {}) });
  });
}
