import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryFS } from '../../src/backends/memory.js';
import { PacketType, StatusCode } from '../../src/sftp/protocol/constants.js';
import { symlinkOrderOf } from '../../src/sftp/symlinkOrder.js';
import { SessionPipe } from '../helpers/sessionPipe.js';
import { expectReply } from '../helpers/sftpReplies.js';

describe('SYMLINK argument order by client', () => {
  it('reads the link first from the clients that send it so to a server not named OpenSSH, the target first from the rest', () => {
    for (const software of ['ssh2js1.17.0', 'AsyncSSH_2.10.1', 'WinSCP_release_6.3.5', 'libssh_0.10.4']) assert.equal(symlinkOrderOf(software), 'link-first', software);
    for (const software of ['OpenSSH_9.2p1', 'paramiko_3.4.0', 'libssh2_1.10.0', 'SSHJ_0.38.0', 'russh_0.45.0', 'JSCH-0.1.54', 'Go', 'PuTTY_Release_0.81', 'FileZilla_3.67.0', undefined]) {
      assert.equal(symlinkOrderOf(software), 'target-first', String(software));
    }
  });

  for (const order of ['target-first', 'link-first'] as const) {
    it(`a ${order} session makes the link its client meant`, async () => {
      const fs = new MemoryFS();
      await fs.writeFile('/target', 'x');
      const pipe = new SessionPipe(fs, { symlinkOrder: order });
      await pipe.init();
      const [first, second] = order === 'target-first' ? ['/target', '/link'] : ['/link', '/target'];
      const reply = expectReply(await pipe.request({ type: PacketType.SYMLINK, targetPath: first, linkPath: second }), 'status');
      assert.equal(reply.code, StatusCode.OK, reply.message);
      assert.equal(await fs.readlink('/link'), '/target');
      pipe.end();
    });
  }
});
