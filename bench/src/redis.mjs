// A real redis-server (Debian's binary) for the benchmarks that use the L2 tier: on a free port
// of loopback, no persistence, LRU past 512 MB; started again on the same port after a kill.
import { spawn, spawnSync } from 'node:child_process';
import { freePort } from './common.mjs';

export const redisAvailable = () => spawnSync('redis-server', ['--version']).error === undefined;

/** Starts redis-server on `port` (a free one when not given); resolves once it answers PING. */
export async function startRedis(port) {
  const p = port ?? (await freePort());
  const proc = spawn(
    'redis-server',
    [
      '--port',
      String(p),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory',
      '512mb',
      '--maxmemory-policy',
      'allkeys-lru',
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 200; i++) {
    const ok = spawnSync('redis-cli', ['-p', String(p), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG';
    if (ok) return { proc, port: p, url: `redis://127.0.0.1:${p}` };
    await new Promise((r) => setTimeout(r, 25));
  }
  proc.kill('SIGKILL');
  throw new Error('redis-server did not answer PING');
}
