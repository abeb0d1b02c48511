/** Errors the `sftp-expose` command reports with exit code 2, in a module of their own so that main.ts loads no server to recognise them. */

/** Thrown when the rules leave no way to log in (the server would be useless). */
export class NoAuthenticationConfigured extends Error {
  override name = 'NoAuthenticationConfigured';
  constructor() {
    super('no way to authenticate: give --user and --pass, an --authorized-keys file with at least one key, or --no-auth to let anyone in');
  }
}
