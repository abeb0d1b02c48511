import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AnyAuthMethod, AuthenticationType, AuthHandlerMiddleware } from 'ssh2';
import { hashPassword } from '../../src/server/auth/passwordHash.js';
import { decodeBase32, totp } from '../../src/server/auth/totp.js';
import { parseConfig } from '../../src/server/config/loadConfig.js';
import { MultiUserServer } from '../../src/server/MultiUserServer.js';
import { clientKey } from '../helpers/keys.js';
import { requireTool } from '../helpers/requireTool.js';
import { connectClient, endClient } from '../helpers/ssh2Client.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

const skip = requireTool('ssh-keygen');
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/**
 * Logs in trying the given methods in order; keyboard-interactive answers
 * each prompt with `code()`. Records what the server said before each try.
 */
async function logIn(port: number, methods: Array<AnyAuthMethod | 'keyboard-interactive'>, code: () => string) {
  const answers: Array<{ methodsLeft: AuthenticationType[] | null; partialSuccess: boolean | null }> = [];
  const prompts: string[] = [];
  const queue = [...methods];
  const authHandler: AuthHandlerMiddleware = (methodsLeft, partialSuccess, next) => {
    answers.push({ methodsLeft, partialSuccess });
    const method = queue.shift();
    if (method === undefined) return next(false as never);
    if (method !== 'keyboard-interactive') return next(method);
    next({
      type: 'keyboard-interactive',
      username: 'tina',
      prompt: (_name, _instructions, _lang, questions, finish) => {
        prompts.push(...questions.map((question) => question.prompt));
        finish(questions.map(() => code()));
      },
    });
  };
  try {
    await endClient(await connectClient(port, { username: 'tina', authHandler }));
    return { ok: true, answers, prompts };
  } catch (error) {
    assert.match((error as Error).message, /authentication methods failed/i);
    return { ok: false, answers, prompts };
  }
}

describe('TOTP second factor over keyboard-interactive (ssh2 client)', { skip }, () => {
  let server: TestServer;
  let now = 1_800_000_000_000;
  const key = decodeBase32(SECRET);
  const currentCode = () => totp(key, now);

  before(async () => {
    const config = parseConfig({
      users: {
        tina: { passwordHash: await hashPassword('tina-pw'), authorizedKeys: [`ssh-ed25519 ${clientKey('tina').publicKey.data.toString('base64')}`], home: 'memory:', totp: { secret: SECRET } },
      },
    });
    server = await startTestServer({ create: (options) => new MultiUserServer({ ...options, config, now: () => now }) });
  });
  after(() => server?.close());

  const password: AnyAuthMethod = { type: 'password', username: 'tina', password: 'tina-pw' };
  const publickey: AnyAuthMethod = { type: 'publickey', username: 'tina', key: clientKey('tina').privateKey };

  it('password, then the code: the password is a partial success that asks for keyboard-interactive', async () => {
    now += 60_000;
    const result = await logIn(server.port, [password, 'keyboard-interactive'], currentCode);
    assert.equal(result.ok, true);
    assert.deepEqual(result.answers[1], { methodsLeft: ['keyboard-interactive'], partialSuccess: true });
    assert.deepEqual(result.prompts, ['Verification code: ']);
  });

  it('publickey, then the code', async () => {
    now += 60_000;
    const result = await logIn(server.port, [publickey, 'keyboard-interactive'], currentCode);
    assert.equal(result.ok, true);
    assert.equal(result.answers[1]!.partialSuccess, true);
  });

  it('a wrong code, a reused code, and the password alone do not log in', async () => {
    now += 60_000;
    assert.equal((await logIn(server.port, [password, 'keyboard-interactive'], () => String((Number(currentCode()) + 1) % 1_000_000).padStart(6, '0'))).ok, false);
    assert.equal((await logIn(server.port, [password], currentCode)).ok, false);
    assert.equal((await logIn(server.port, [password, 'keyboard-interactive'], currentCode)).ok, true);
    assert.equal((await logIn(server.port, [password, 'keyboard-interactive'], currentCode)).ok, false, 'the same code twice');
  });

  it('the code without a first factor is refused, and keyboard-interactive is not offered', async () => {
    now += 60_000;
    const result = await logIn(server.port, ['keyboard-interactive'], currentCode);
    assert.equal(result.ok, false);
    assert.deepEqual(result.prompts, [], 'never asked for a code');
  });

  it('a wrong password never reaches the code prompt', async () => {
    now += 60_000;
    const result = await logIn(server.port, [{ type: 'password', username: 'tina', password: 'nope' }, 'keyboard-interactive'], currentCode);
    assert.equal(result.ok, false);
    assert.deepEqual(result.prompts, []);
  });
});
