import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import type { BenchServer } from './servers/types.js';
import { treeMemory } from './procfs.js';
import { CIPHER, KEX } from './sftpClient.js';

/** Connections opened at once while building up the idle set (sshd throttles floods of unauthenticated ones). */
const CONNECT_CONCURRENCY = 8;

export interface IdleResult {
  rssPerSession: number;
  pssPerSession: number;
}

function openSession(server: BenchServer, privateKey: Buffer): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once('error', reject);
    client.once('ready', () => {
      client.sftp((error) => {
        if (error) {
          client.end();
          reject(error);
        } else resolve(client);
      });
    });
    client.connect({ host: '127.0.0.1', port: server.port, username: server.user, privateKey, readyTimeout: 60_000, algorithms: { cipher: [CIPHER], kex: [KEX] } });
  });
}

/**
 * Holds `count` ssh2 connections, each with an open SFTP channel doing
 * nothing, and reports how much the server's memory grew per session (the
 * process tree's VmRSS and Pss, before the first connection and after the last).
 */
export async function measureIdleSessions(server: BenchServer, keyPath: string, count: number): Promise<IdleResult> {
  const privateKey = readFileSync(keyPath);
  const before = treeMemory(server.pid);
  const clients: ssh2.Client[] = [];
  try {
    let next = 0;
    const opener = async () => {
      while (next < count) {
        next++;
        clients.push(await openSession(server, privateKey));
      }
    };
    await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, opener));
    const after = treeMemory(server.pid);
    return { rssPerSession: (after.rss - before.rss) / count, pssPerSession: (after.pss - before.pss) / count };
  } finally {
    await Promise.all(
      clients.map(
        (client) =>
          new Promise<void>((resolve) => {
            client.once('close', () => resolve());
            client.end();
          }),
      ),
    );
  }
}
