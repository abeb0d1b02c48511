/**
 * Custom authentication by subclassing BaseSFTPServer: who may log in, how,
 * and which filesystem each user sees.
 *
 * - `alice` needs two factors: her SSH key, then her password. Her files live
 *   in her own in-memory filesystem, kept while the server runs.
 * - `bob` logs in with a password and sees a shared folder, read-only.
 *
 * Run it: `ALICE_PUBKEY=~/.ssh/id_ed25519.pub npx tsx examples/custom-auth.ts`,
 * then `sftp -P 2022 alice@localhost` (key, then password `alice-pass`) or
 * `sftp -P 2022 bob@localhost` (password `bob-pass`). PORT and HOST change
 * where it listens; ALICE_PASS and BOB_PASS the passwords.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { pathToFileURL } from 'node:url';
import {
  AuthResult, BaseSFTPServer, MemoryFS, ReadOnlyFS, createStderrLogger, isKeyAllowed, parseAuthorizedKeys, safeEqual,
  type AuthAttempt, type AuthMethod, type BaseSFTPServerOptions, type FS, type PublicKey, type SessionInfo,
} from '../src/index.js';

export interface TeamConfig {
  /** Alice's public keys (authorized_keys lines) and password: both are required. */
  aliceKeys: PublicKey[];
  alicePassword: string;
  bobPassword: string;
  /** What bob sees, read-only. */
  shared: FS;
}

export class TeamServer extends BaseSFTPServer {
  /** One filesystem per user, made at first login and kept, so a reconnecting user finds their files. */
  private readonly homes = new Map<string, FS>();

  constructor(private readonly team: TeamConfig, options: BaseSFTPServerOptions = {}) {
    super(options);
  }

  override getAllowedAuths(username: string, attempt: AuthAttempt): AuthMethod[] {
    if (username === 'alice') return attempt.completedMethods.includes('publickey') ? ['password'] : ['publickey'];
    // Unknown users are offered the same as bob, so a client cannot probe which names exist.
    return ['password'];
  }

  override checkAuthPublickey(username: string, key: PublicKey): AuthResult {
    // Her key is only the first factor: PARTIALLY_SUCCESSFUL asks the client for another method.
    if (username === 'alice' && isKeyAllowed(this.team.aliceKeys, key)) return AuthResult.PARTIALLY_SUCCESSFUL;
    return AuthResult.FAILED;
  }

  override checkAuthPassword(username: string, password: string, attempt: AuthAttempt): AuthResult {
    if (username === 'alice') {
      // getAllowedAuths already asks for the key first; checking here too keeps the rule in one readable place.
      const keyPassed = attempt.completedMethods.includes('publickey');
      return keyPassed && safeEqual(password, this.team.alicePassword) ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
    }
    if (username === 'bob') return safeEqual(password, this.team.bobPassword) ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
    return AuthResult.FAILED;
  }

  override getFS(session: SessionInfo): FS {
    if (session.username === 'bob') return this.team.shared;
    let home = this.homes.get(session.username);
    if (!home) {
      home = new MemoryFS();
      this.homes.set(session.username, home);
    }
    return home;
  }
}

function readKeys(file: string): PublicKey[] {
  const path = file.replace(/^~(?=\/|$)/, homedir());
  return existsSync(path) ? parseAuthorizedKeys(readFileSync(path, 'utf8')) : [];
}

async function main(): Promise<void> {
  const logger = createStderrLogger('info');
  const aliceKeys = readKeys(process.env.ALICE_PUBKEY ?? '~/.ssh/id_ed25519.pub');
  if (aliceKeys.length === 0) logger.warn('no key for alice (set ALICE_PUBKEY to a public key file): she cannot log in');
  const sharedFiles = new MemoryFS();
  await sharedFiles.writeFile('/welcome.txt', 'Hello bob. This folder is read-only.\n');
  const server = new TeamServer(
    {
      aliceKeys,
      alicePassword: process.env.ALICE_PASS ?? 'alice-pass',
      bobPassword: process.env.BOB_PASS ?? 'bob-pass',
      shared: new ReadOnlyFS(sharedFiles),
    },
    { logger },
  );
  const { address, port } = await server.listen(Number(process.env.PORT ?? 2022), process.env.HOST ?? 'localhost');
  logger.info(`listening on ${address}:${port}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
