// Load that runs through a graceful shutdown: used wherever a gateway is sent SIGTERM while busy
// (the `ortline` process, the container image).
import { Agent, request } from 'node:http';
import { parity } from './helpers.js';

export interface DrainLoad {
  /** Settles once every worker saw its connection closed (or failed). */
  all: Promise<unknown>;
  results: { ok: number; failed: string[]; afterSignal: number };
  /** Call when the signal is sent: requests sent from then on are counted in `afterSignal`. */
  signal: () => void;
}

/**
 * Workers each hold one keep-alive connection and send requests back to back (every tenth a batch
 * of 200 rows). After SIGTERM the server answers what it received, closing each connection with
 * its answer, so every request a worker sent must come back 200: `failed` must stay empty.
 * `onStarted` fires once the workers have had five answers each on average.
 */
export function loadUntilClosed(url: string, workers: number, onStarted: () => void): DrainLoad {
  const { rows } = parity();
  const results = { ok: 0, failed: [] as string[], afterSignal: 0 };
  let signalled = false;
  let started = 0;
  const body = JSON.stringify({ customer_id: 'x', ...rows[0]!.features });
  const batch = JSON.stringify({ instances: rows.slice(0, 200).map((r) => r.features) });
  const worker = (w: number) =>
    new Promise<void>((resolve) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const next = (i: number) => {
        const payload = (w + i) % 10 === 0 ? batch : body;
        const sentAfterSignal = signalled;
        const req = request(
          `${url}/v1/models/churn/predict`,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          },
          (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => {
              if (res.statusCode === 200) {
                results.ok++;
                if (sentAfterSignal) results.afterSignal++;
              } else results.failed.push(`status ${res.statusCode}: ${text}`);
              if (++started === workers * 5) onStarted();
              if (res.headers.connection === 'close') {
                agent.destroy();
                resolve();
              } else next(i + 1);
            });
          },
        );
        req.on('error', (err) => {
          results.failed.push(`${err.message} (sent ${sentAfterSignal ? 'after' : 'before'} SIGTERM)`);
          agent.destroy();
          resolve();
        });
        req.end(payload);
      };
      next(0);
    });
  const all = Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return { all, results, signal: () => (signalled = true) };
}
