import type { FS } from '../fs/FS.js';
import { BaseSFTPServer, type BaseSFTPServerOptions, type SessionInfo } from '../ssh/BaseSFTPServer.js';
import { AuthResult, isKeyAllowed, safeEqual, type AuthMethod, type PublicKey } from '../ssh/auth.js';
import { NoAuthenticationConfigured } from './cliErrors.js';

/** Who may log in to the CLI's server; the rules of `rclone serve sftp`. */
export interface CLIAuthRules {
  /** With `password`: the one user/password pair. Without: the only user name keys may log in as. */
  user?: string;
  password?: string;
  /** Keys from an authorized_keys file; any user name unless `user` is set. */
  authorizedKeys: readonly PublicKey[];
  /** Anyone gets in, by any method, `none` included. */
  noAuth: boolean;
}

/**
 * The server behind `sftp-expose serve`, and the smallest real example of
 * subclassing {@link BaseSFTPServer}: it overrides only the auth hooks and
 * lets the base class serve `options.fs` to everyone who gets in.
 */
export class CLIServer extends BaseSFTPServer {
  /**
   * @param openSessionFS when given, each session gets an FS of its own from it
   *   (closed when the session ends) instead of sharing `options.fs`.
   */
  constructor(
    private readonly rules: CLIAuthRules,
    options: BaseSFTPServerOptions,
    private readonly openSessionFS?: () => Promise<FS>,
  ) {
    if (!rules.noAuth && rules.password === undefined && rules.authorizedKeys.length === 0) throw new NoAuthenticationConfigured();
    super(options);
  }

  override getFS(session: SessionInfo): FS | Promise<FS> {
    return this.openSessionFS ? this.openSessionFS() : super.getFS(session);
  }

  override async releaseFS(fs: FS): Promise<void> {
    if (this.openSessionFS) await fs.close();
  }

  /** The methods configured, for the start-up log. */
  get authMethods(): AuthMethod[] {
    if (this.rules.noAuth) return ['none', 'password', 'publickey'];
    const methods: AuthMethod[] = [];
    if (this.rules.authorizedKeys.length > 0) methods.push('publickey');
    if (this.rules.password !== undefined) methods.push('password');
    return methods;
  }

  override getAllowedAuths(_username: string): AuthMethod[] {
    return this.authMethods;
  }

  override checkAuthNone(_username: string): AuthResult {
    return this.rules.noAuth ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
  }

  override checkAuthPassword(username: string, password: string): AuthResult {
    if (this.rules.noAuth) return AuthResult.SUCCESSFUL;
    const { user, password: expected } = this.rules;
    if (user === undefined || expected === undefined) return AuthResult.FAILED;
    // Both compared, always, so the time taken does not tell which one was wrong.
    const userMatches = safeEqual(username, user);
    const passwordMatches = safeEqual(password, expected);
    return userMatches && passwordMatches ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
  }

  override checkAuthPublickey(username: string, key: PublicKey): AuthResult {
    if (this.rules.noAuth) return AuthResult.SUCCESSFUL;
    if (this.rules.user !== undefined && !safeEqual(username, this.rules.user)) return AuthResult.FAILED;
    return isKeyAllowed(this.rules.authorizedKeys, key) ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
  }
}
