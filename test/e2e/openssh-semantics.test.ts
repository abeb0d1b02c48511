import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { mkdir, readFile, readdir, readlink, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { LocalFS } from '../../src/backends/local.js';
import { MemoryFS } from '../../src/backends/memory.js';
import { PacketFramer, PacketWriter, type WireAttrs } from '../../src/sftp/protocol/codec.js';
import { OpenFlag, PacketType, StatusCode } from '../../src/sftp/protocol/constants.js';
import { encodeRequest, type Request } from '../../src/sftp/protocol/messages.js';
import { Session } from '../../src/sftp/Session.js';
import { SFTPServerInterface } from '../../src/sftp/SFTPServerInterface.js';
import { decodeReply, expectReply, type Reply } from '../helpers/sftpReplies.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { requireFile, requireTool } from '../helpers/requireTool.js';
import { runSftpBatch } from '../helpers/sftpBatch.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

/*
 * A differential test: the same requests go to OpenSSH's sftp-server (run over
 * its stdin/stdout, no SSH) and to our Session over a LocalFS rooted at `/`,
 * each in its own copy of a fixture, and the answers are compared. Where we
 * answer differently on purpose, the case says so in `differs`, with both
 * answers pinned and the reason.
 */

const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

type RequestWithoutId = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

/** A raw SFTP client on any pair of streams: the child's stdio or a Session's PassThroughs. */
class StreamPeer {
  private readonly framer = new PacketFramer(16 * 1024 * 1024);
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private versionWaiter?: (reply: Reply) => void;
  private nextId = 1;

  constructor(fromServer: Readable, private readonly toServer: Writable) {
    fromServer.on('data', (chunk: Buffer) => {
      for (const body of this.framer.push(chunk)) {
        const reply = decodeReply(body);
        if (reply.type === 'version') this.versionWaiter?.(reply);
        else this.waiting.get(reply.id)?.(reply);
      }
      if (this.framer.error) throw this.framer.error; // the server sent a bad length: fail the test loudly
    });
  }

  init(): Promise<Reply> {
    const version = new Promise<Reply>((resolve) => (this.versionWaiter = resolve));
    this.toServer.write(encodeRequest({ type: PacketType.INIT, version: 3 }));
    return version;
  }

  request(request: RequestWithoutId): Promise<Reply> {
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve) => this.waiting.set(id, resolve));
    this.toServer.write(encodeRequest({ ...request, id } as Request));
    return reply;
  }
}

interface Side {
  name: 'openssh' | 'ours';
  /** The directory relative paths start from (sftp-server's cwd, our home). */
  base: string;
  peer: StreamPeer;
  stop(): Promise<void>;
}

async function startOpenSSH(base: string): Promise<Side> {
  const child: ChildProcessWithoutNullStreams = spawn(SFTP_SERVER, ['-e', '-l', 'ERROR'], { cwd: base });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const peer = new StreamPeer(child.stdout, child.stdin);
  await peer.init();
  return {
    name: 'openssh', base, peer,
    async stop() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function startOurs(base: string): Promise<Side> {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const session = new Session({ readable: toServer, writable: toClient, close: () => toClient.end() }, new SFTPServerInterface(new LocalFS({ root: '/' }), { home: base }));
  const ended = new Promise<void>((resolve) => session.once('close', () => resolve()));
  const peer = new StreamPeer(toClient, toServer);
  await peer.init();
  return {
    name: 'ours', base, peer,
    async stop() {
      toServer.end();
      await ended;
    },
  };
}

const statusNames = Object.fromEntries(Object.entries(StatusCode).map(([name, code]) => [code, name]));

interface StepContext {
  side: Side;
  /** Handles saved by earlier steps of the case, by name. */
  handles: Map<string, Buffer>;
  /** A `c/...` path with the case's directory put in front (for custom steps). */
  path(path: string): string;
}

/** One request of a case; its reply is summarised to a string and compared between the sides. */
interface Step {
  request: (ctx: StepContext) => RequestWithoutId;
  /** Save a HANDLE reply under this name for later steps. */
  saveHandle?: string;
  /** Include these attributes in an ATTRS summary (size and mode always are). */
  attrs?: Array<keyof WireAttrs>;
}

/** A step that is a whole procedure (a listing loop...) summarised by itself. */
type CustomStep = (ctx: StepContext) => Promise<string>;

interface Case {
  name: string;
  /** Builds the fixture in the case's own directory (one per side). */
  setup?: (dir: string) => Promise<void>;
  steps: Array<Step | CustomStep>;
  /** What the case's directory holds afterwards, compared too. */
  after?: (dir: string) => Promise<string>;
  /** Steps where we answer differently on purpose: both answers pinned, and why. */
  differs?: Array<{ step: number; openssh: string; ours: string; why: string }>;
}

/** A reply as a comparable string; paths inside the side's base are shown relative to `$BASE`. */
function summarise(reply: Reply, side: Side, step: Step): string {
  const relative = (path: string) => path.startsWith(side.base) ? '$BASE' + path.slice(side.base.length) : path.replace(join(side.base, '..'), '$TMP');
  switch (reply.type) {
    case 'status': return `status ${statusNames[reply.code]}`;
    case 'handle': return 'handle';
    case 'data': return `data ${JSON.stringify(reply.data.toString('latin1'))}`;
    case 'name': return `name ${reply.entries.map((entry) => relative(entry.filename)).join(',')}`;
    case 'attrs': {
      const { size, permissions } = reply.attrs;
      const extra = (step.attrs ?? []).map((field) => ` ${field}=${reply.attrs[field]}`).join('');
      return `attrs size=${size} mode=${permissions?.toString(8)}${extra}`;
    }
    default: return reply.type;
  }
}

const enc = (text: string) => Buffer.from(text);
const posixRenamePayload = (oldPath: string, newPath: string) => Buffer.from(new PacketWriter(0).string(oldPath).string(newPath).fields());
const posixRename = (oldPath: string, newPath: string): RequestWithoutId => ({
  type: PacketType.EXTENDED, name: 'posix-rename@openssh.com', payload: posixRenamePayload(oldPath, newPath),
});
const at = (ctx: StepContext, name: string) => ctx.handles.get(name)!;
const fileText = (path: string) => readFile(path, 'latin1').catch((error: NodeJS.ErrnoException) => `<${error.code}>`);
async function listing(dir: string): Promise<string> {
  return (await readdir(dir)).sort().join(',');
}

/** The cases. Paths are relative to the case's directory, which the runner puts in front as `c/`. */
const cases: Case[] = [
  {
    name: 'REALPATH of ., .., relative paths, a missing last component, a missing parent, a file as parent',
    setup: async (dir) => {
      await mkdir(join(dir, 'sub'));
      await writeFile(join(dir, 'file'), 'x');
    },
    steps: ['.', '..', 'c', 'c/.', 'c/sub/../file', 'c/missing', 'c/missing/x', 'c/file/x', ''].map((path) => ({
      request: () => ({ type: PacketType.REALPATH, path }),
    })),
  },
  {
    name: 'SETSTAT size, mode and times; on a missing file; a size on a directory',
    setup: async (dir) => {
      await writeFile(join(dir, 'f'), 'hello world');
      await mkdir(join(dir, 'd'));
    },
    steps: [
      { request: () => ({ type: PacketType.SETSTAT, path: 'c/f', attrs: { size: 5 } }) },
      { request: () => ({ type: PacketType.SETSTAT, path: 'c/f', attrs: { permissions: 0o600 } }) },
      { request: () => ({ type: PacketType.SETSTAT, path: 'c/f', attrs: { atime: 1_000_000, mtime: 2_000_000 } }) },
      { request: () => ({ type: PacketType.STAT, path: 'c/f' }), attrs: ['atime', 'mtime'] },
      { request: () => ({ type: PacketType.SETSTAT, path: 'c/missing', attrs: { permissions: 0o600 } }) },
      { request: () => ({ type: PacketType.SETSTAT, path: 'c/d', attrs: { size: 0 } }) },
    ],
    after: (dir) => fileText(join(dir, 'f')),
  },
  {
    name: 'OPEN: CREAT|EXCL on an existing file, TRUNC, APPEND, missing file, missing parent',
    setup: async (dir) => {
      await writeFile(join(dir, 'existing'), 'old content');
      await writeFile(join(dir, 'log'), 'line1\n');
    },
    steps: [
      { request: () => ({ type: PacketType.OPEN, path: 'c/existing', pflags: OpenFlag.WRITE | OpenFlag.CREAT | OpenFlag.EXCL, attrs: {} }) },
      { request: () => ({ type: PacketType.OPEN, path: 'c/existing', pflags: OpenFlag.WRITE | OpenFlag.TRUNC, attrs: {} }), saveHandle: 'trunc' },
      { request: (ctx) => ({ type: PacketType.WRITE, handle: at(ctx, 'trunc'), offset: 0, data: enc('new') }) },
      { request: (ctx) => ({ type: PacketType.CLOSE, handle: at(ctx, 'trunc') }) },
      { request: () => ({ type: PacketType.OPEN, path: 'c/log', pflags: OpenFlag.WRITE | OpenFlag.APPEND, attrs: {} }), saveHandle: 'append' },
      { request: (ctx) => ({ type: PacketType.WRITE, handle: at(ctx, 'append'), offset: 0, data: enc('line2\n') }) },
      { request: (ctx) => ({ type: PacketType.CLOSE, handle: at(ctx, 'append') }) },
      { request: () => ({ type: PacketType.OPEN, path: 'c/missing', pflags: OpenFlag.READ, attrs: {} }) },
      { request: () => ({ type: PacketType.OPEN, path: 'c/nodir/new', pflags: OpenFlag.WRITE | OpenFlag.CREAT, attrs: {} }) },
      { request: () => ({ type: PacketType.OPEN, path: 'c/fresh', pflags: OpenFlag.WRITE | OpenFlag.CREAT | OpenFlag.EXCL, attrs: { permissions: 0o640 } }), saveHandle: 'fresh' },
      { request: (ctx) => ({ type: PacketType.CLOSE, handle: at(ctx, 'fresh') }) },
      { request: () => ({ type: PacketType.LSTAT, path: 'c/fresh' }) },
    ],
    after: async (dir) => `${await fileText(join(dir, 'existing'))}|${await fileText(join(dir, 'log'))}`,
  },
  {
    name: 'a handle refuses what it was not opened for; READ past EOF; READ in the middle',
    setup: (dir) => writeFile(join(dir, 'f'), '0123456789'),
    steps: [
      { request: () => ({ type: PacketType.OPEN, path: 'c/f', pflags: OpenFlag.READ, attrs: {} }), saveHandle: 'r' },
      { request: (ctx) => ({ type: PacketType.WRITE, handle: at(ctx, 'r'), offset: 0, data: enc('zz') }) },
      { request: (ctx) => ({ type: PacketType.READ, handle: at(ctx, 'r'), offset: 4, length: 3 }) },
      { request: (ctx) => ({ type: PacketType.READ, handle: at(ctx, 'r'), offset: 10, length: 10 }) },
      { request: (ctx) => ({ type: PacketType.READ, handle: at(ctx, 'r'), offset: 1000, length: 10 }) },
      { request: (ctx) => ({ type: PacketType.CLOSE, handle: at(ctx, 'r') }) },
      { request: () => ({ type: PacketType.OPEN, path: 'c/f', pflags: OpenFlag.WRITE, attrs: {} }), saveHandle: 'w' },
      { request: (ctx) => ({ type: PacketType.READ, handle: at(ctx, 'w'), offset: 0, length: 4 }) },
      { request: (ctx) => ({ type: PacketType.CLOSE, handle: at(ctx, 'w') }) },
      { request: (ctx) => ({ type: PacketType.CLOSE, handle: at(ctx, 'w') }) },
    ],
    after: (dir) => fileText(join(dir, 'f')),
    differs: [
      { step: 1, openssh: 'status NO_SUCH_FILE', ours: 'status PERMISSION_DENIED', why: 'OpenSSH passes write(2)\'s EBADF through its errno table, where EBADF means "no such file"; the file exists, the handle lacks write access' },
      { step: 7, openssh: 'status NO_SUCH_FILE', ours: 'status PERMISSION_DENIED', why: 'the same EBADF, for a READ on a write-only handle' },
      { step: 9, openssh: 'status NO_SUCH_FILE', ours: 'status FAILURE', why: 'OpenSSH maps a closed handle\'s EBADF to NO_SUCH_FILE; a stale handle is not a missing file, and FAILURE "Invalid handle" is what it answers for other bad handles' },
    ],
  },
  {
    name: 'RENAME onto an existing file fails; posix-rename replaces it; a missing source',
    setup: async (dir) => {
      await writeFile(join(dir, 'a'), 'A');
      await writeFile(join(dir, 'b'), 'B');
    },
    steps: [
      { request: () => ({ type: PacketType.RENAME, oldPath: 'c/a', newPath: 'c/b' }) },
      { request: () => posixRename('c/a', 'c/b') },
      { request: () => ({ type: PacketType.RENAME, oldPath: 'c/a', newPath: 'c/z' }) },
      { request: () => ({ type: PacketType.RENAME, oldPath: 'c/b', newPath: 'c/moved' }) },
    ],
    after: async (dir) => `${await listing(dir)}|${await fileText(join(dir, 'moved'))}`,
  },
  {
    name: 'RMDIR of a non-empty or missing directory, REMOVE of a directory, MKDIR of an existing one',
    setup: async (dir) => {
      await mkdir(join(dir, 'full'));
      await writeFile(join(dir, 'full', 'x'), 'x');
      await mkdir(join(dir, 'empty'));
    },
    steps: [
      { request: () => ({ type: PacketType.RMDIR, path: 'c/full' }) },
      { request: () => ({ type: PacketType.RMDIR, path: 'c/missing' }) },
      { request: () => ({ type: PacketType.REMOVE, path: 'c/empty' }) },
      { request: () => ({ type: PacketType.MKDIR, path: 'c/empty', attrs: {} }) },
      { request: () => ({ type: PacketType.RMDIR, path: 'c/full/x' }) },
      { request: () => ({ type: PacketType.RMDIR, path: 'c/empty' }) },
    ],
    after: listing,
  },
  {
    name: 'SYMLINK takes the target first (OpenSSH order); READLINK gives it back; STAT follows, LSTAT does not',
    setup: (dir) => writeFile(join(dir, 'target'), 'T'),
    steps: [
      { request: () => ({ type: PacketType.SYMLINK, targetPath: 'target', linkPath: 'c/link' }) },
      { request: () => ({ type: PacketType.READLINK, path: 'c/link' }) },
      { request: () => ({ type: PacketType.STAT, path: 'c/link' }) },
      { request: () => ({ type: PacketType.LSTAT, path: 'c/link' }) },
      { request: () => ({ type: PacketType.SYMLINK, targetPath: 'elsewhere', linkPath: 'c/link' }) },
      { request: () => ({ type: PacketType.READLINK, path: 'c/target' }) },
    ],
    differs: [
      { step: 5, openssh: 'status BAD_MESSAGE', ours: 'status FAILURE', why: 'readlink(2) of a non-link is EINVAL, which OpenSSH maps to BAD_MESSAGE; the packet was fine, so we say FAILURE with the reason in the message' },
    ],
    // The link on disk, not only the replies: the target exactly as the client gave it.
    after: (dir) => readlink(join(dir, 'link')),
  },
  {
    name: 'READDIR longnames: the ls -l lines, owner and group names included',
    setup: async (dir) => {
      await mkdir(join(dir, 'listed', 'sub'), { recursive: true });
      await writeFile(join(dir, 'listed', 'five.txt'), '12345', { mode: 0o640 });
      await symlink('five.txt', join(dir, 'listed', 'link'));
      const old = new Date('2020-01-02T03:04:05Z');
      await utimes(join(dir, 'listed', 'five.txt'), old, old);
    },
    steps: [
      async (ctx) => {
        const { side } = ctx;
        const handle = expectReply(await side.peer.request({ type: PacketType.OPENDIR, path: ctx.path('c/listed') }), 'handle').handle;
        const lines: string[] = [];
        for (;;) {
          const reply = await side.peer.request({ type: PacketType.READDIR, handle });
          if (reply.type === 'status') break;
          for (const entry of expectReply(reply, 'name').entries) if (entry.filename !== '.' && entry.filename !== '..') lines.push(entry.longname);
        }
        await side.peer.request({ type: PacketType.CLOSE, handle });
        // Entries the setup just made show its minute, the same on both sides only most of the time.
        return lines.map((line) => line.replace(/ \w{3} [ \d]\d \d\d:\d\d /, ' <recent> ')).sort().join('\n');
      },
    ],
  },
  {
    name: 'READDIR of 5,000 entries, streamed in batches: every name exactly once',
    setup: async (dir) => {
      await mkdir(join(dir, 'many'));
      await Promise.all(Array.from({ length: 5000 }, (_, i) => writeFile(join(dir, 'many', `entry-${i}`), '')));
    },
    steps: [
      async (ctx) => {
        const { side } = ctx;
        const handle = expectReply(await side.peer.request({ type: PacketType.OPENDIR, path: ctx.path('c/many') }), 'handle').handle;
        const names: string[] = [];
        let batches = 0;
        for (;;) {
          const reply = await side.peer.request({ type: PacketType.READDIR, handle });
          if (reply.type === 'status') {
            assert.equal(reply.code, StatusCode.EOF, `${side.name}: listing ended with ${reply.message}`);
            break;
          }
          batches++;
          names.push(...expectReply(reply, 'name').entries.map((entry) => entry.filename));
        }
        await side.peer.request({ type: PacketType.CLOSE, handle });
        assert.ok(batches > 1, `${side.name}: 5,000 entries came in ${batches} batch(es)`);
        const unique = new Set(names);
        return `entries=${names.length} unique=${unique.size} dots=${['.', '..'].filter((dot) => unique.has(dot)).join('+')} first=${[...unique].filter((n) => n.startsWith('entry')).sort()[0]}`;
      },
    ],
    differs: [
      { step: 0, openssh: 'entries=5002 unique=5002 dots=.+.. first=entry-0', ours: 'entries=5000 unique=5000 dots= first=entry-0', why: 'OpenSSH lists . and .. as readdir(3) returns them; the FS contract lists neither (no backend but a disk has them, and clients skip them)' },
    ],
  },
];

/** Runs one case's steps on one side, in that side's copy of the fixture. */
async function runCase(side: Side, testCase: Case, slug: string): Promise<{ answers: string[]; after?: string }> {
  const dir = join(side.base, slug);
  await mkdir(dir);
  await testCase.setup?.(dir);
  const ctx: StepContext = { side, handles: new Map(), path: (path) => fixPath(path, slug) };
  const answers: string[] = [];
  for (const step of testCase.steps) {
    if (typeof step === 'function') {
      answers.push(await step(ctx));
      continue;
    }
    const request = withCasePrefix(step.request(ctx), slug);
    const reply = await side.peer.request(request);
    if (step.saveHandle && reply.type === 'handle') ctx.handles.set(step.saveHandle, reply.handle);
    answers.push(summarise(reply, side, step));
  }
  return { answers, after: await testCase.after?.(dir) };
}

/** Puts the case directory in front of every `c/...` path of a request. */
function fixPath(path: string, slug: string): string {
  return path === 'c' || path.startsWith('c/') ? slug + path.slice(1) : path;
}

function withCasePrefix(request: RequestWithoutId, slug: string): RequestWithoutId {
  const fix = (path: string) => fixPath(path, slug);
  const fields = { ...request } as Record<string, unknown>;
  for (const key of ['path', 'oldPath', 'newPath', 'linkPath']) if (typeof fields[key] === 'string') fields[key] = fix(fields[key] as string);
  if (request.type === PacketType.EXTENDED && request.name === 'posix-rename@openssh.com') {
    const [oldPath, newPath] = decodeTwoStrings(request.payload);
    fields.payload = posixRenamePayload(fix(oldPath), fix(newPath));
  }
  return fields as RequestWithoutId;
}

function decodeTwoStrings(payload: Buffer): [string, string] {
  const first = payload.readUInt32BE(0);
  const second = payload.readUInt32BE(4 + first);
  return [payload.subarray(4, 4 + first).toString(), payload.subarray(8 + first, 8 + first + second).toString()];
}

describe('OpenSSH sftp-server and our Session answer alike', { skip: requireFile(SFTP_SERVER, 'openssh-server') }, () => {
  const temp = makeTempDir('sftp-expose-openssh-semantics-');
  const sides: Side[] = [];

  before(async () => {
    const root = realpathSync(temp.path);
    for (const [name, start] of [['openssh', startOpenSSH], ['ours', startOurs]] as const) {
      const base = join(root, name);
      await mkdir(base);
      sides.push(await start(base));
    }
  });

  after(async () => {
    await Promise.all(sides.map((side) => side.stop()));
    temp.remove();
  });

  cases.forEach((testCase, index) => {
    it(testCase.name, async () => {
      const slug = `case${index}`;
      const [openssh, ours] = await Promise.all(sides.map((side) => runCase(side, testCase, slug)));
      const expectedOurs = [...openssh!.answers];
      for (const difference of testCase.differs ?? []) {
        assert.equal(openssh!.answers[difference.step], difference.openssh, `OpenSSH no longer answers step ${difference.step} as pinned`);
        expectedOurs[difference.step] = difference.ours;
      }
      assert.deepEqual(
        ours!.answers.map((answer, step) => `${step}: ${answer}`),
        expectedOurs.map((answer, step) => `${step}: ${answer}`),
      );
      assert.equal(ours!.after, openssh!.after, 'the directory afterwards');
    });
  });

});

describe("OpenSSH's sftp client: cp is a server-side copy-data", { skip: requireTool('sftp') }, () => {
  let server: TestServer;
  const fs = new MemoryFS();

  before(async () => {
    server = await startTestServer({ fs });
  });

  after(async () => {
    await server?.close();
  });

  it('copies a multi-chunk file, and refuses a missing source', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 4321);
    await fs.writeFile('/source.bin', content);
    const result = await runSftpBatch(server.port, server.clientKeyPath, ['cp /source.bin /copy.bin', '-cp /missing /nowhere']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await fs.readFile('/copy.bin')).equals(content), 'the copy differs from the source');
    assert.match(result.stderr, /No such file/);
    assert.equal(await fs.exists('/nowhere'), false);
  });
});
