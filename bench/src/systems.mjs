// The systems under test, each started as its own process tree on 127.0.0.1 and stopped by pid:
//   ortline      the gateway, caches off
//   ortline-l1   the gateway with its in-process L1 cache on, fed a hot/cold mix
//   fastapi      Python FastAPI + uvicorn (2 workers) + onnxruntime     (bench/peers/fastapi)
//   fastify      Fastify + onnxruntime-node, one process                (bench/peers/fastify)
//   fastify-x2   the same, one process per core (node:cluster)
//   uws-echo     the ceiling: uWebSockets.js that parses the JSON, answers a constant
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { activeModelDir, freePort, repoRoot } from './common.mjs';
import { treePids } from './cpu.mjs';

const gatewayBin = join(repoRoot, 'packages/cli/bin/ortline.js');
const fastapiDir = join(repoRoot, 'bench/peers/fastapi');
export const fastapiVenv = join(fastapiDir, '.venv');

/** Whether this build of the gateway has the L1 cache option. */
export function gatewayHasL1() {
  const r = spawnSync(process.execPath, [gatewayBin, 'config'], { encoding: 'utf8' });
  try {
    return typeof JSON.parse(r.stdout).cache?.l1?.enabled === 'boolean';
  } catch {
    return false;
  }
}

/** Whether the `ortline` command (packages/cli) and the gateway it serves are built. */
export function gatewayBuilt() {
  return (
    existsSync(join(repoRoot, 'packages/cli/dist/cli.js')) &&
    existsSync(join(repoRoot, 'packages/gateway/dist/index.js'))
  );
}

/**
 * Spawns a server and waits until `ready(line, state)` (called per JSON line on stdout) returns a
 * port. stderr is kept (last 4 KiB) for error messages.
 */
/**
 * The model version the peers serve: the one the gateway answers with by default (the
 * repository's routing rule), so every system scores the same graph. MODEL_DIR overrides it.
 */
function peerModelDir() {
  return process.env.MODEL_DIR || activeModelDir('churn');
}

function startProcess(name, cmd, argv, { cwd = repoRoot, env = process.env, ready, timeoutMs = 90_000 }) {
  const proc = spawn(cmd, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let seen = '';
  proc.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4096)));
  // What it printed so far, for the timeout's message.
  proc.stdout.on('data', (d) => (seen = (seen + d).slice(-2048)));
  return new Promise((resolve, reject) => {
    const state = {};
    let buf = '';
    let done = false;
    const timer = setTimeout(
      () =>
        fail(
          new Error(
            `${name} not ready after ${timeoutMs / 1000}s; stdout: ${seen || '(nothing)'}; stderr: ${stderr || '(nothing)'}`,
          ),
        ),
      timeoutMs,
    );
    const fail = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const pid of treePids(proc.pid))
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      reject(err);
    };
    proc.on('error', fail);
    proc.on('exit', (code, signal) =>
      fail(new Error(`${name} exited (${code ?? signal}) before it was ready: ${stderr}`)),
    );
    proc.stdout.on('data', (d) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let j;
        try {
          j = JSON.parse(line);
        } catch {
          continue;
        }
        const port = ready(j, state);
        if (port && !done) {
          done = true;
          clearTimeout(timer);
          resolve(running(name, proc, port, () => stderr));
        }
      }
    });
  });
}

function running(name, proc, port, stderr) {
  let exited = proc.exitCode !== null;
  proc.on('exit', () => (exited = true));
  // Keep draining stdout so a chatty server never blocks on a full pipe.
  proc.stdout.resume();
  return {
    name,
    pid: proc.pid,
    url: `http://127.0.0.1:${port}`,
    get alive() {
      return !exited;
    },
    stderr,
    async stop() {
      if (exited) return;
      const pids = treePids(proc.pid);
      proc.kill('SIGTERM');
      const deadline = Date.now() + 10_000;
      while (!exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // Whatever of the tree is left (a worker that ignored its parent): by pid, one at a time.
      for (const pid of pids) {
        try {
          process.kill(pid, 0);
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
    },
  };
}

function gateway(l1) {
  const flags = l1 === undefined ? [] : [`--cache-l1-enabled=${l1}`];
  return () =>
    startProcess(
      l1 ? 'ortline-l1' : 'ortline',
      process.execPath,
      [gatewayBin, 'serve', '--host', '127.0.0.1', '--port', '0', '--models-dir', join(repoRoot, 'models'), ...flags],
      {
        ready(j, s) {
          if (j.msg === 'listening') s.port = j.port;
          return j.msg === 'ready' ? s.port : undefined;
        },
      },
    );
}

export const FASTAPI_WORKERS = 2;

export function systems({ l1, hotShare }) {
  const list = [
    {
      id: 'ortline',
      short: 'ortline',
      label: 'ortline gateway',
      detail: l1 ? 'caches off (--no-cache-l1-enabled)' : 'no cache tiers in this build',
      answers: 'model',
      gateway: true,
      mix: 'cycle',
      start: gateway(l1 ? false : undefined),
    },
  ];
  if (l1) {
    list.push({
      id: 'ortline-l1',
      short: 'ortline + L1',
      label: 'ortline gateway + L1',
      detail: `L1 cache on, ${Math.round(hotShare * 100)}% of requests from a hot set, the rest never seen before`,
      answers: 'model',
      gateway: true,
      mix: 'hot',
      start: gateway(true),
    });
  }
  list.push(
    {
      id: 'fastapi',
      short: 'FastAPI',
      label: 'FastAPI + onnxruntime',
      detail: `uvicorn --workers ${FASTAPI_WORKERS} (uvloop, httptools), Pydantic, onnxruntime (Python)`,
      answers: 'model',
      mix: 'cycle',
      async start() {
        const port = await freePort();
        return startProcess(
          'fastapi',
          join(fastapiVenv, 'bin/uvicorn'),
          [
            'app:app',
            '--workers',
            String(FASTAPI_WORKERS),
            '--host',
            '127.0.0.1',
            '--port',
            String(port),
            '--no-access-log',
            '--log-level',
            'warning',
          ],
          {
            cwd: fastapiDir,
            env: { ...process.env, MODEL_DIR: peerModelDir() },
            ready(j, s) {
              if (j.msg === 'ready') s.n = (s.n ?? 0) + 1;
              return s.n === FASTAPI_WORKERS ? port : undefined;
            },
          },
        );
      },
    },
    {
      id: 'fastify',
      short: 'Fastify',
      label: 'Fastify + onnxruntime-node',
      detail: 'one process, JSON schema on the route, one session.run per request',
      answers: 'model',
      mix: 'cycle',
      start: () =>
        startProcess('fastify', process.execPath, [join(repoRoot, 'bench/peers/fastify/server.mjs')], {
          env: { ...process.env, FASTIFY_WORKERS: '1', MODEL_DIR: peerModelDir() },
          ready: (j) => (j.msg === 'listening' ? j.port : undefined),
        }),
    },
    {
      id: 'fastify-x2',
      short: 'Fastify ×2',
      label: 'Fastify + onnxruntime-node ×2',
      detail: 'the same, one process per core (node:cluster, 2 workers)',
      answers: 'model',
      mix: 'cycle',
      start: () =>
        startProcess('fastify-x2', process.execPath, [join(repoRoot, 'bench/peers/fastify/server.mjs')], {
          env: { ...process.env, FASTIFY_WORKERS: '2', MODEL_DIR: peerModelDir() },
          ready: (j) => (j.msg === 'listening' ? j.port : undefined),
        }),
    },
    {
      id: 'uws-echo',
      short: 'uWS echo',
      label: 'uWS echo (ceiling)',
      detail: 'uWebSockets.js: reads the body, JSON.parse, answers a constant; no validation, no model',
      answers: 'constant',
      mix: 'cycle',
      start: () =>
        startProcess('uws-echo', process.execPath, [join(repoRoot, 'bench/peers/echo-server.mjs')], {
          ready: (j) => (j.msg === 'listening' ? j.port : undefined),
        }),
    },
  );
  return list;
}
