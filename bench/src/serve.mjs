// `ortline serve` as a child process for the benchmarks that compare gateway configurations: the
// built CLI on a free port over the repository's models, resolved once it logs "ready".
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './common.mjs';

/** Starts it with extra flags; the process is pushed onto `children` (for the caller's clean-up). */
export function startServe(extra, { env = {}, children = [] } = {}) {
  const proc = spawn(
    process.execPath,
    [
      join(repoRoot, 'packages/cli/bin/ortline.js'),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--models-dir',
      join(repoRoot, 'models'),
      ...extra,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    },
  );
  children.push(proc);
  return new Promise((resolve, reject) => {
    let buf = '';
    let port;
    const timer = setTimeout(() => reject(new Error('ortline serve did not log "ready" within 60 s')), 60_000);
    proc.stdout.on('data', (d) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const j = JSON.parse(line);
          if (j.msg === 'listening') port = j.port;
          if (j.msg === 'ready') {
            clearTimeout(timer);
            resolve({ proc, url: `http://127.0.0.1:${port}` });
          }
        } catch {}
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ortline serve exited with ${code}`));
    });
  });
}
