// HTTP and WebSocket throughput of the gateway, with the load generator on the same machine.
//
//   node bench/src/http.mjs [--duration 10] [--rounds 3] [--connections 64,256,2100]
//                           [--ws-connections 4] [--ws-window 512] [--out DIR]
//
// Contenders: the gateway (`ortline serve`, caches off: there are none yet, metrics on) and a
// uWebSockets.js server that only parses the JSON and answers a constant (bench/peers/echo-server.mjs).
// Before timing, both must answer a parity row (the gateway within the model's tolerance).
// Rounds interleave the contenders; the median round is reported. Load generator: wrk (Debian
// package) when installed, else autocannon. Nothing is asserted: figures are reported.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '..', '..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const duration = Number(args.duration ?? 10);
const rounds = Number(args.rounds ?? 3);
const levels = String(args.connections ?? '64,256,2100').split(',').map(Number);
const wsConnections = Number(args['ws-connections'] ?? 4);
const wsWindow = Number(args['ws-window'] ?? 512);

function activeDir(name) {
  const base = join(repoRoot, 'models', name);
  if (existsSync(join(base, 'ACTIVE'))) return join(base, readFileSync(join(base, 'ACTIVE'), 'utf8').trim());
  return join(base, String(Math.max(...readdirSync(base).filter((d) => /^\d+$/.test(d)).map(Number))));
}
const parity = JSON.parse(readFileSync(join(activeDir('churn'), 'parity.json'), 'utf8'));
const row = parity.rows[0];
const body = JSON.stringify({ customer_id: row.customerID, ...row.features });

function start(cmd, argv) {
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    let port;
    proc.stdout.on('data', (d) => {
      buf += d;
      for (let nl; (nl = buf.indexOf('\n')) >= 0; ) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const j = JSON.parse(line);
          if (j.msg === 'listening') port = j.port;
          if (j.msg === 'ready' || (j.msg === 'listening' && cmd === process.execPath && argv[0].endsWith('echo-server.mjs'))) resolve({ proc, url: `http://127.0.0.1:${port}` });
        } catch {}
      }
    });
    proc.on('exit', (code) => reject(new Error(`${argv[0]} exited with ${code}`)));
  });
}

async function sanity(name, url, check) {
  const r = await fetch(`${url}/v1/models/churn/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const j = await r.json();
  if (r.status !== 200 || !check(j)) throw new Error(`${name} gave a wrong answer before timing: ${r.status} ${JSON.stringify(j)}`);
}

const WRK_LUA = join(tmpdir(), `ortline-bench-${process.pid}.lua`);
const haveWrk = spawnSync('wrk', ['--version']).error === undefined;

function ms(s) {
  const m = /([\d.]+)(us|ms|s)/.exec(s);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

async function load(url, connections) {
  if (haveWrk) {
    writeFileSync(WRK_LUA, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(body)}\n`);
    const threads = Math.min(2, connections);
    const r = spawnSync('wrk', [`-t${threads}`, `-c${connections}`, `-d${duration}s`, '--latency', '--timeout', '10s', '-s', WRK_LUA, `${url}/v1/models/churn/predict`], { encoding: 'utf8' });
    const out = r.stdout;
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const p50 = ms(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
    const p99 = ms(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
    const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const errors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    return { rps, p50_ms: p50, p99_ms: p99, errors, non2xx, tool: 'wrk' };
  }
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({ url: `${url}/v1/models/churn/predict`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, duration });
  return { rps: r.requests.average, p50_ms: r.latency.p50, p99_ms: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx, tool: 'autocannon' };
}

async function wsPipelined(url) {
  const frames = parity.rows.map((r, i) => JSON.stringify({ id: i, record: r.features }));
  let answered = 0;
  let errors = 0;
  const started = performance.now();
  const end = started + duration * 1000;
  await Promise.all(
    Array.from({ length: wsConnections }, () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/stream`);
        let sent = 0;
        let outstanding = 0;
        const send = () => {
          outstanding++;
          ws.send(frames[sent++ % frames.length]);
        };
        ws.on('open', () => {
          for (let i = 0; i < wsWindow; i++) send();
        });
        ws.on('message', (d) => {
          outstanding--;
          answered++;
          if (d.includes('"error"')) errors++;
          // Keep the window full until the deadline, then let it empty.
          if (performance.now() < end) send();
          else if (outstanding === 0) ws.close();
        });
        ws.on('close', resolve);
        ws.on('error', reject);
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  return { predictions_per_s: Math.round(answered / seconds), errors, connections: wsConnections, window: wsWindow };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const gateway = await start(process.execPath, [join(repoRoot, 'packages/gateway/bin/ortline.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--models-dir', join(repoRoot, 'models')]);
const echo = await start(process.execPath, [join(repoRoot, 'bench/peers/echo-server.mjs')]);
try {
  await sanity('gateway', gateway.url, (j) => Math.abs(j.churn_probability - row.probability) <= parity.tolerance);
  await sanity('echo', echo.url, (j) => typeof j.churn_probability === 'number');
  // Warm both (JIT, connection setup).
  await load(gateway.url, 64);
  await load(echo.url, 64);

  const results = [];
  for (const c of levels) {
    const g = [];
    const e = [];
    for (let r = 0; r < rounds; r++) {
      g.push(await load(gateway.url, c));
      e.push(await load(echo.url, c));
    }
    const gm = g.find((x) => x.rps === median(g.map((y) => y.rps)));
    const em = e.find((x) => x.rps === median(e.map((y) => y.rps)));
    const line = { connections: c, gateway: gm, echo: em, share_of_echo: Number((gm.rps / em.rps).toFixed(3)), rounds: { gateway: g.map((x) => Math.round(x.rps)), echo: e.map((x) => Math.round(x.rps)) } };
    results.push(line);
    console.error(`c=${c}: gateway ${Math.round(gm.rps)}/s p50 ${gm.p50_ms}ms p99 ${gm.p99_ms}ms errors ${gm.errors} non2xx ${gm.non2xx} | echo ${Math.round(em.rps)}/s | share ${line.share_of_echo}`);
  }
  const ws = await wsPipelined(gateway.url);
  console.error(`ws pipelined: ${ws.predictions_per_s} predictions/s (${ws.connections} connections x ${ws.window} in flight), errors ${ws.errors}`);

  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  const sum = [...metrics.matchAll(/ortline_batch_rows_sum\{[^}]*\} ([\d.e+]+)/g)].reduce((a, m) => a + Number(m[1]), 0);
  const count = [...metrics.matchAll(/ortline_batch_rows_count\{[^}]*\} ([\d.e+]+)/g)].reduce((a, m) => a + Number(m[1]), 0);
  const report = {
    created: new Date().toISOString(),
    command: `node bench/src/http.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpu: cpus()[0]?.model.trim(), cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version },
    settings: { duration_s: duration, rounds, load_generator: haveWrk ? 'wrk' : 'autocannon', body_bytes: body.length },
    http: results,
    ws_pipelined: ws,
    mean_batch_rows: count ? Number((sum / count).toFixed(1)) : null,
  };
  const text = JSON.stringify(report, null, 2);
  const outDir = args.out ?? join(repoRoot, 'bench/results/http');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${report.created.replace(/[:.]/g, '-')}.json`), `${text}\n`);
  writeFileSync(join(outDir, 'latest.json'), `${text}\n`);
  console.log(text);
} finally {
  rmSync(WRK_LUA, { force: true });
  gateway.proc.kill('SIGTERM');
  echo.proc.kill('SIGTERM');
}
