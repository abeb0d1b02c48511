import { AuthResult, BaseSFTPServer, isKeyAllowed, type AuthMethod, type FS, type PublicKey } from '../dist/core.js';

/** Lets in any user holding one of the authorized keys (the bench's only client key). */
export class BenchSFTPServer extends BaseSFTPServer {
  constructor(fs: FS, hostKey: string, private readonly authorized: PublicKey[]) {
    super({ fs, hostKeys: [hostKey] });
  }

  override getAllowedAuths(): AuthMethod[] {
    return ['publickey'];
  }

  override checkAuthPublickey(_username: string, key: PublicKey): AuthResult {
    return isKeyAllowed(this.authorized, key) ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
  }
}
