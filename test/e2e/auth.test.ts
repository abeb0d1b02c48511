import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthenticationType, AnyAuthMethod, AuthHandlerMiddleware } from 'ssh2';
import { MemoryFS } from '../../src/backends/memory.js';
import type { FS } from '../../src/fs/FS.js';
import { AuthResult, isKeyAllowed, safeEqual, type AuthMethod, type PublicKey } from '../../src/ssh/auth.js';
import { BaseSFTPServer, type AuthAttempt, type SessionInfo } from '../../src/ssh/BaseSFTPServer.js';
import { clientKey } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { canLogIn, connectSsh2 } from '../helpers/ssh2Client.js';
import { startTestServer, TEST_USER, type TestServer } from '../helpers/testServer.js';

const skip = requireTool('ssh-keygen');

/** Tries exactly the given methods in order, recording what the server answered before each next try. */
function scriptedAuth(methods: AnyAuthMethod[]) {
  const answers: Array<{ methodsLeft: AuthenticationType[] | null; partialSuccess: boolean | null }> = [];
  const queue = [...methods];
  const authHandler: AuthHandlerMiddleware = (methodsLeft, partialSuccess, next) => {
    answers.push({ methodsLeft, partialSuccess });
    next(queue.shift() ?? (false as never));
  };
  return { authHandler, answers };
}

const key = () => clientKey().privateKey;
const publickey = (username: string, privateKey = key()): AnyAuthMethod => ({ type: 'publickey', username, key: privateKey });
const password = (username: string, secret: string): AnyAuthMethod => ({ type: 'password', username, password: secret });

describe('authentication', { skip }, () => {
  describe('a server accepting one user by key or password', () => {
    let server: TestServer;
    before(async () => (server = await startTestServer({ password: 'open sesame' })));
    after(() => server?.close());

    it('accepts the right key', async () => {
      assert.equal(await canLogIn(server.port, { username: TEST_USER, privateKey: key() }), true);
    });

    it('refuses a different key', async () => {
      assert.equal(await canLogIn(server.port, { username: TEST_USER, privateKey: clientKey('stranger').privateKey }), false);
    });

    it('accepts the right password and refuses a wrong one', async () => {
      assert.equal(await canLogIn(server.port, { username: TEST_USER, password: 'open sesame' }), true);
      assert.equal(await canLogIn(server.port, { username: TEST_USER, password: 'open sesame!' }), false);
      assert.equal(await canLogIn(server.port, { username: TEST_USER, password: '' }), false);
    });

    it('refuses an unknown user, even with the right key or password', async () => {
      assert.equal(await canLogIn(server.port, { username: 'mallory', privateKey: key() }), false);
      assert.equal(await canLogIn(server.port, { username: 'mallory', password: 'open sesame' }), false);
    });

    it('refuses "none"', async () => {
      const { authHandler, answers } = scriptedAuth([{ type: 'none', username: TEST_USER }]);
      assert.equal(await canLogIn(server.port, { username: TEST_USER, authHandler }), false);
      assert.deepEqual(answers[1]?.methodsLeft?.slice().sort(), ['password', 'publickey'], 'the refusal lists the methods that may work');
    });
  });

  it('the base class with no overrides accepts nobody', async () => {
    class AllowNone extends BaseSFTPServer {
      override getAllowedAuths(): AuthMethod[] {
        return ['none', 'password', 'publickey'];
      }
    }
    for (const create of [(o: object) => new BaseSFTPServer(o), (o: object) => new AllowNone(o)]) {
      const server = await startTestServer({ create });
      try {
        assert.equal(await canLogIn(server.port, { username: TEST_USER, privateKey: key() }), false, 'key');
        assert.equal(await canLogIn(server.port, { username: 'root', password: 'root' }), false, 'password');
        const { authHandler } = scriptedAuth([{ type: 'none', username: 'root' }]);
        assert.equal(await canLogIn(server.port, { username: 'root', authHandler }), false, 'none');
      } finally {
        await server.close();
      }
    }
  });

  it('runs custom hooks: async password check, anonymous "none", a hook that throws', async () => {
    const passwords = new Map([['alice', 'wonderland']]);
    class CustomServer extends BaseSFTPServer {
      override getAllowedAuths(username: string): AuthMethod[] {
        return username === 'guest' ? ['none'] : ['password'];
      }
      override checkAuthNone(username: string): AuthResult {
        return username === 'guest' ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
      }
      override async checkAuthPassword(username: string, secret: string): Promise<AuthResult> {
        if (username === 'broken') throw new Error('user database unreachable');
        const expected = await new Promise<string | undefined>((resolve) => setImmediate(() => resolve(passwords.get(username))));
        return expected !== undefined && safeEqual(secret, expected) ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
      }
    }
    const server = await startTestServer({ create: (o) => new CustomServer(o) });
    try {
      assert.equal(await canLogIn(server.port, { username: 'alice', password: 'wonderland' }), true);
      assert.equal(await canLogIn(server.port, { username: 'alice', password: 'looking glass' }), false);
      assert.equal(await canLogIn(server.port, { username: 'alice', privateKey: key() }), false, 'publickey is not offered to alice');
      assert.equal(await canLogIn(server.port, { username: 'guest', authHandler: ['none'] }), true);
      assert.equal(await canLogIn(server.port, { username: 'broken', password: 'x' }), false);
      assert.equal(await canLogIn(server.port, { username: 'alice', password: 'wonderland' }), true, 'still serving after a hook threw');
    } finally {
      await server.close();
    }
  });

  describe('two factors: key, then password (PARTIALLY_SUCCESSFUL)', () => {
    let server: TestServer;
    const logins: SessionInfo[] = [];
    class TwoFactorServer extends BaseSFTPServer {
      // The policy: a key first, and only then a password.
      override getAllowedAuths(_username: string, attempt: AuthAttempt): AuthMethod[] {
        return attempt.completedMethods.includes('publickey') ? ['password'] : ['publickey'];
      }
      override checkAuthPublickey(username: string, offered: PublicKey): AuthResult {
        return username === TEST_USER && isKeyAllowed([clientKey().publicKey], offered) ? AuthResult.PARTIALLY_SUCCESSFUL : AuthResult.FAILED;
      }
      override checkAuthPassword(username: string, secret: string): AuthResult {
        return username === TEST_USER && safeEqual(secret, 'second factor') ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
      }
      override getFS(info: SessionInfo): FS | Promise<FS> {
        logins.push(info);
        return super.getFS(info);
      }
    }
    before(async () => (server = await startTestServer({ create: (o) => new TwoFactorServer(o) })));
    after(() => server?.close());

    it('does not let the key alone in, and tells the client the key counted', async () => {
      const { authHandler, answers } = scriptedAuth([publickey(TEST_USER)]);
      assert.equal(await canLogIn(server.port, { username: TEST_USER, authHandler }), false);
      assert.deepEqual(answers[1], { methodsLeft: ['password'], partialSuccess: true });
    });

    it('lets key plus password in, and records both methods', async () => {
      const { authHandler, answers } = scriptedAuth([publickey(TEST_USER), password(TEST_USER, 'second factor')]);
      const conn = await connectSsh2(server.port, { username: TEST_USER, authHandler });
      try {
        await conn.p.writeFile('/proof', 'in');
        assert.equal(answers[1]?.partialSuccess, true);
        assert.deepEqual(logins.at(-1)?.authMethods, ['publickey', 'password']);
      } finally {
        await conn.close();
      }
    });

    it('refuses the password alone', async () => {
      const { authHandler } = scriptedAuth([password(TEST_USER, 'second factor')]);
      assert.equal(await canLogIn(server.port, { username: TEST_USER, authHandler }), false);
    });

    it('refuses key plus a wrong password', async () => {
      const { authHandler } = scriptedAuth([publickey(TEST_USER), password(TEST_USER, 'guess')]);
      assert.equal(await canLogIn(server.port, { username: TEST_USER, authHandler }), false);
    });
  });

  it('gives each user the filesystem getFS picks: one user cannot see another\'s files', async () => {
    const filesystems = new Map([['ann', new MemoryFS()], ['bob', new MemoryFS()]]);
    class PerUserServer extends BaseSFTPServer {
      override getAllowedAuths(): AuthMethod[] {
        return ['publickey'];
      }
      override checkAuthPublickey(username: string, offered: PublicKey): AuthResult {
        return filesystems.has(username) && isKeyAllowed([clientKey().publicKey], offered) ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
      }
      override async getFS(info: SessionInfo): Promise<FS> {
        return filesystems.get(info.username)!;
      }
    }
    const server = await startTestServer({ create: (o) => new PerUserServer(o) });
    const ann = await connectSsh2(server.port, { username: 'ann', privateKey: key() });
    const bob = await connectSsh2(server.port, { username: 'bob', privateKey: key() });
    try {
      await ann.p.writeFile('/ann-only.txt', 'private to ann');
      await bob.p.writeFile('/bob-only.txt', 'private to bob');
      assert.deepEqual((await ann.p.readdir('/')).map((entry) => entry.filename), ['ann-only.txt']);
      assert.deepEqual((await bob.p.readdir('/')).map((entry) => entry.filename), ['bob-only.txt']);
      await assert.rejects(bob.p.readFile('/ann-only.txt'), { code: 2 });
      assert.equal((await filesystems.get('ann')!.readFile('/ann-only.txt')).toString(), 'private to ann');
    } finally {
      await ann.close();
      await bob.close();
      await server.close();
    }
  });
});
