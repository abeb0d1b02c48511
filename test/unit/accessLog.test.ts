import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import type { Logger } from '../../src/logger.js';
import { AccessLog, type AccessRecord } from '../../src/observability/accessLog.js';
import { OpenFlag, PacketType, StatusCode } from '../../src/sftp/protocol/constants.js';
import { SessionPipe } from '../helpers/sessionPipe.js';
import { expectReply } from '../helpers/sftpReplies.js';

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  record: AccessRecord;
}

/** A logger that keeps what it is given. */
function spyLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const keep = (level: Line['level']) => (message: string, details?: Record<string, unknown>) => lines.push({ level, message, record: details as AccessRecord });
  return { lines, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

const server = { name: 'the server these sessions belong to' };
const peer = { server, username: 'alice', clientAddress: '192.0.2.7', clientPort: 50123 };
let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

async function setUp(fs = new MemoryFS()): Promise<{ pipe: SessionPipe; logger: Logger & { lines: Line[] }; accessLog: AccessLog }> {
  const logger = spyLogger();
  const accessLog = new AccessLog(logger, { server });
  const pipe = new SessionPipe(fs, { peer });
  cleanups.push(() => accessLog.close(), () => pipe.end());
  await pipe.init();
  return { pipe, logger, accessLog };
}

async function open(pipe: SessionPipe, path: string, pflags: number): Promise<Buffer> {
  return expectReply(await pipe.request({ type: PacketType.OPEN, path, pflags, attrs: {} }), 'handle').handle;
}

async function status(pipe: SessionPipe, request: Parameters<SessionPipe['request']>[0]): Promise<number> {
  return expectReply(await pipe.request(request), 'status').code;
}

const infoLines = (lines: Line[]) => lines.filter((line) => line.level === 'info');

describe('access log', () => {
  it('logs an upload once, at CLOSE, with the bytes of all its writes and who made it', async () => {
    const { pipe, logger } = await setUp();
    const handle = await open(pipe, '/up.bin', OpenFlag.WRITE | OpenFlag.CREAT | OpenFlag.TRUNC);
    for (let i = 0; i < 3; i++) assert.equal(await status(pipe, { type: PacketType.WRITE, handle, offset: i * 1000, data: Buffer.alloc(1000, i) }), StatusCode.OK);
    assert.equal(logger.lines.length, 0, 'nothing logged before the close');
    assert.equal(await status(pipe, { type: PacketType.CLOSE, handle }), StatusCode.OK);
    assert.equal(logger.lines.length, 1);
    const [line] = logger.lines;
    assert.equal(line!.level, 'info');
    assert.equal(line!.message, 'access');
    const { durationMs, ...rest } = line!.record;
    assert.deepEqual(rest, { user: 'alice', client: '192.0.2.7', op: 'upload', path: '/up.bin', bytes: 3000, status: 'OK' });
    assert.ok(durationMs >= 0);
  });

  it('logs a download with the bytes read, and a listing with its entry count', async () => {
    const fs = new MemoryFS();
    await fs.mkdir('/d');
    for (const name of ['a', 'b', 'c']) await fs.writeFile(`/d/${name}`, Buffer.alloc(700, 1));
    const { pipe, logger } = await setUp(fs);
    const handle = await open(pipe, '/d/a', OpenFlag.READ);
    let offset = 0;
    for (;;) {
      const reply = await pipe.request({ type: PacketType.READ, handle, offset, length: 256 });
      if (reply.type === 'status') break;
      offset += expectReply(reply, 'data').data.length;
    }
    await status(pipe, { type: PacketType.CLOSE, handle });
    const dir = expectReply(await pipe.request({ type: PacketType.OPENDIR, path: '/d' }), 'handle').handle;
    while ((await pipe.request({ type: PacketType.READDIR, handle: dir })).type === 'name');
    await status(pipe, { type: PacketType.CLOSE, handle: dir });
    const records = infoLines(logger.lines).map(({ record }) => record);
    assert.deepEqual(records.map(({ op, path, bytes, entries, status }) => ({ op, path, bytes, entries, status })), [
      { op: 'download', path: '/d/a', bytes: 700, entries: undefined, status: 'OK' },
      { op: 'list', path: '/d', bytes: 0, entries: 3, status: 'OK' },
    ]);
  });

  it('logs changes and refused opens at info, lookups at debug', async () => {
    const fs = new MemoryFS();
    await fs.writeFile('/old', Buffer.from('x'));
    const { pipe, logger } = await setUp(fs);
    assert.equal(await status(pipe, { type: PacketType.OPEN, path: '/missing', pflags: OpenFlag.READ, attrs: {} }), StatusCode.NO_SUCH_FILE);
    assert.equal(await status(pipe, { type: PacketType.RENAME, oldPath: '/old', newPath: '/new' }), StatusCode.OK);
    assert.equal(await status(pipe, { type: PacketType.MKDIR, path: '/dir', attrs: {} }), StatusCode.OK);
    assert.equal(await status(pipe, { type: PacketType.REMOVE, path: '/new' }), StatusCode.OK);
    assert.equal(await status(pipe, { type: PacketType.REMOVE, path: '/new' }), StatusCode.NO_SUCH_FILE);
    await pipe.request({ type: PacketType.STAT, path: '/dir' });
    await pipe.request({ type: PacketType.STAT, path: '/nowhere' });
    const summary = ({ level, record }: Line) => `${level} ${record.op} ${record.path}${record.targetPath ? ` -> ${record.targetPath}` : ''} ${record.status}`;
    assert.deepEqual(logger.lines.map(summary), [
      'info open /missing NO_SUCH_FILE',
      'info rename /old -> /new OK',
      'info mkdir /dir OK',
      'info remove /new OK',
      'info remove /new NO_SUCH_FILE',
      'debug stat /dir OK',
      'debug stat /nowhere NO_SUCH_FILE',
    ]);
  });

  it('marks an upload cut off by the end of the session as CONNECTION_LOST', async () => {
    const { pipe, logger } = await setUp();
    const handle = await open(pipe, '/partial', OpenFlag.WRITE | OpenFlag.CREAT);
    await status(pipe, { type: PacketType.WRITE, handle, offset: 0, data: Buffer.alloc(512) });
    pipe.session.shutdown('test ends the session');
    await pipe.ended;
    const records = infoLines(logger.lines).map(({ record }) => record);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.op, 'upload');
    assert.equal(records[0]!.bytes, 512);
    assert.equal(records[0]!.status, 'CONNECTION_LOST');
  });

  it("ignores other servers' sessions and stops at close()", async () => {
    const { pipe, logger, accessLog } = await setUp();
    const stranger = new SessionPipe(new MemoryFS(), { peer: { ...peer, server: {} } });
    cleanups.push(() => stranger.end());
    await stranger.init();
    await status(stranger, { type: PacketType.MKDIR, path: '/theirs', attrs: {} });
    assert.equal(logger.lines.length, 0, "another server's request was logged");
    accessLog.close();
    await status(pipe, { type: PacketType.MKDIR, path: '/ours', attrs: {} });
    assert.equal(logger.lines.length, 0, 'logged after close()');
  });
});
