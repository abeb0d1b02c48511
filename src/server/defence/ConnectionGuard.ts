import type { Socket } from 'node:net';

/** Why a guard ended its connection. */
export type GuardEndReason = 'login grace time' | 'max auth tries' | 'banned' | 'idle timeout';

/** What a guard needs from the defence that made it. */
export interface GuardContext {
  maxAuthTries: number;
  loginGraceTimeMs: number;
  idleTimeoutMs: number;
  /** Records a failure against the address; true when the address is banned now. */
  recordFailure(address: string): boolean;
  isBanned(address: string): boolean;
  /** Called once when the guard ends its connection, and once when the connection has closed. */
  onEnd(guard: ConnectionGuard, reason: GuardEndReason): void;
  onClose(guard: ConnectionGuard): void;
}

/**
 * The defence's view of one connection: its real client address, its login
 * deadline, its failed attempts and its idle timer. The server reports events
 * to it (`authFailed`, `authenticated`, `touch`); the guard ends the
 * connection when a rule says so.
 */
export class ConnectionGuard {
  private failures = 0;
  private loggedIn = false;
  private ended = false;
  private lastActivity = 0;
  private timer?: NodeJS.Timeout;
  /** How to end the connection: a clean SSH disconnect once ssh2 has it, a socket destroy before. */
  private endConnection: () => void;

  constructor(
    /** The client address the rules apply to (the PROXY header's source, when trusted). */
    readonly address: string,
    readonly socket: Socket,
    private readonly context: GuardContext,
  ) {
    this.endConnection = () => socket.destroy();
    if (context.loginGraceTimeMs > 0) this.timer = setTimeout(() => this.end('login grace time'), context.loginGraceTimeMs);
    this.timer?.unref();
    socket.once('close', () => {
      clearTimeout(this.timer);
      context.onClose(this);
    });
  }

  /** Lets the guard end the connection with an SSH disconnect (ssh2's `client.end()`). */
  bindEnd(end: () => void): void {
    this.endConnection = () => {
      end();
      // A client that ignores the disconnect does not keep its slot.
      setTimeout(() => this.socket.destroy(), 2_000).unref();
    };
  }

  /** Whether logins on this connection must be refused now (its address was banned meanwhile). */
  get refusesLogin(): boolean {
    return this.ended || this.context.isBanned(this.address);
  }

  /**
   * Counts a definitive failed authentication (a wrong password, a signed key
   * refused; not `none` nor a "would this key do" query, which every client
   * with several keys sends). Ends the connection past max auth tries, or
   * when the failure got the address banned. Call after rejecting, so the
   * client reads the failure before the disconnect.
   */
  authFailed(): void {
    if (this.ended) return;
    this.failures++;
    const banned = this.context.recordFailure(this.address);
    if (banned) this.end('banned');
    else if (this.context.maxAuthTries > 0 && this.failures >= this.context.maxAuthTries) this.end('max auth tries');
  }

  /** The user is in: the login deadline no longer applies; the idle timer starts. */
  authenticated(): void {
    if (this.loggedIn) return;
    this.loggedIn = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.context.idleTimeoutMs > 0) {
      this.touch();
      this.armIdleTimer(this.context.idleTimeoutMs);
    }
  }

  /** Activity on the connection's channels: the idle timer starts over. */
  touch(): void {
    // A timestamp, not a timer reset: this runs for every packet of a transfer.
    this.lastActivity = performance.now();
  }

  private armIdleTimer(delay: number): void {
    this.timer = setTimeout(() => {
      const quiet = performance.now() - this.lastActivity;
      if (quiet >= this.context.idleTimeoutMs) this.end('idle timeout');
      else this.armIdleTimer(this.context.idleTimeoutMs - quiet);
    }, delay);
    this.timer.unref();
  }

  private end(reason: GuardEndReason): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.context.onEnd(this, reason);
    this.endConnection();
  }
}
