import ssh2 from 'ssh2';
import { AuthResult, type AuthMethod, type PublicKey } from './auth.js';

/** What the auth hooks know of the connection being authenticated. */
export interface AuthAttempt {
  clientAddress: string;
  clientPort: number;
  /**
   * Methods that already returned PARTIALLY_SUCCESSFUL for this user on this
   * connection, in order (a second factor checks the first one passed here).
   */
  completedMethods: readonly AuthMethod[];
}

/** One question of a keyboard-interactive exchange. */
export interface InteractivePrompt {
  prompt: string;
  /** Whether the client shows what is typed (false for secrets). */
  echo: boolean;
}

/**
 * Sends keyboard-interactive questions to the client; resolves with its
 * answers, in order. A hook may call it several times (e.g. ask again).
 */
export type InteractivePrompter = (prompts: InteractivePrompt[], text?: { title?: string; instructions?: string }) => Promise<string[]>;

/** The hooks an authentication request is decided by (BaseSFTPServer's). */
export interface AuthHooks {
  checkAuthNone(username: string, attempt: AuthAttempt): AuthResult | Promise<AuthResult>;
  checkAuthPassword(username: string, password: string, attempt: AuthAttempt): AuthResult | Promise<AuthResult>;
  checkAuthPublickey(username: string, key: PublicKey, attempt: AuthAttempt): AuthResult | Promise<AuthResult>;
  checkAuthInteractive(username: string, prompt: InteractivePrompter, attempt: AuthAttempt): AuthResult | Promise<AuthResult>;
}

/** A publickey query the hook would accept: the client is to sign and ask again. */
export const KEY_ACCEPTABLE = 'key-acceptable';

/**
 * What the hook for this request's method says. A public key counts only with
 * a valid signature over the session (checked here, before the hook's answer
 * can let anyone in); without one, a key the hook likes is KEY_ACCEPTABLE.
 */
export async function decideAuthRequest(hooks: AuthHooks, ctx: ssh2.AuthContext, attempt: AuthAttempt): Promise<AuthResult | typeof KEY_ACCEPTABLE> {
  const username = ctx.username;
  switch (ctx.method) {
    case 'none':
      return hooks.checkAuthNone(username, attempt);
    case 'password':
      return hooks.checkAuthPassword(username, ctx.password, attempt);
    case 'publickey': {
      const key: PublicKey = { algorithm: ctx.key.algo, data: ctx.key.data };
      const result = await hooks.checkAuthPublickey(username, key, attempt);
      if (result === AuthResult.FAILED) return result;
      if (!ctx.signature) return KEY_ACCEPTABLE;
      return verifySignature(ctx) ? result : AuthResult.FAILED;
    }
    case 'keyboard-interactive': {
      const prompter: InteractivePrompter = (prompts, text = {}) =>
        new Promise((resolve) => ctx.prompt(prompts, text.title ?? '', text.instructions ?? '', (answers) => resolve(answers ?? [])));
      return hooks.checkAuthInteractive(username, prompter, attempt);
    }
    default:
      return AuthResult.FAILED;
  }
}

/** Checks a publickey request's signature over the session data. */
function verifySignature(ctx: ssh2.PublicKeyAuthContext): boolean {
  const parsed = ssh2.utils.parseKey(ctx.key.data);
  if (parsed instanceof Error || !ctx.signature || !ctx.blob) return false;
  const key = Array.isArray(parsed) ? parsed[0]! : parsed;
  return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
}
