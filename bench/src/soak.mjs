#!/usr/bin/env node
// Soak: does the gateway hold up, and its memory stay flat, under hours of ordinary mixed load
// with Redis failing now and then? `ortline serve` (the shipped defaults, L2 on a real
// redis-server) takes, open loop at a steady rate:
//   HTTP: v1 predictions in JSON (hot rows, L1 hits, and rows never seen, misses), v1 in
//   MessagePack (4 new rows each), OIP v2 infer, bad requests (an invalid feature, malformed
//   JSON, an unknown model, an unsupported content type) and GETs;
//   WebSocket: two connections, JSON and MessagePack frames, hot and new rows;
// while redis-server is killed (SIGKILL) every `--redis-every` seconds and started again on the
// same port `--redis-down` seconds later. Every `--sample-seconds`: the gateway's RSS, V8 heap
// used, external memory, active handles and open fds (its own /metrics and /proc).
//
//   node bench/src/soak.mjs [--minutes 30] [--rate 300] [--ws-rate 100] [--sample-seconds 10]
//                           [--redis-every 300] [--redis-down 30] [--warmup-minutes W] [--out DIR]
//                           [--max-event-loop-delay-ms MS]
// (the last passed to `ortline serve`: a run sharing its cores with other work, as the tests' one
// minute does, may starve the event loop long enough that the gateway sheds, as it should.)
//
// Reported: each series' least-squares slope per hour over the samples after the warm-up (by
// default the first quarter, at most 2 minutes; a long run should name a longer one before it
// starts: the V8 heap and malloc's arenas take minutes to reach their working size), the residuals' standard deviation (the noise), and the
// growth the slope implies over the fitted window beside that noise; answers by kind and status;
// the Redis events; a chart. The run fails (exit 1) if any good request or frame was not answered
// 200 (or a bad one not with its documented status), a connection broke, or the gateway died.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pack, unpack } from 'msgpackr';
import WebSocket from 'ws';
import { churnParity, machineInfo, repoRoot, writeRun } from './common.mjs';
import { httpGet, httpRequest, openLoop } from './openloop.mjs';
import { metricSum, procMemory } from './probe.mjs';
import { redisAvailable, startRedis } from './redis.mjs';
import { startServe } from './serve.mjs';
import { fitLine } from './stats.mjs';
import { svgDocument } from './svg.mjs';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string', default: '300' },
    'ws-rate': { type: 'string', default: '100' },
    'sample-seconds': { type: 'string', default: '10' },
    'redis-every': { type: 'string' },
    'redis-down': { type: 'string' },
    'warmup-minutes': { type: 'string' },
    'max-event-loop-delay-ms': { type: 'string' },
    out: { type: 'string' },
  },
});
const seconds = Number(args.minutes) * 60;
const rate = Number(args.rate);
const wsRate = Number(args['ws-rate']);
const sampleSeconds = Number(args['sample-seconds']);
// A short run still sees one kill and one restart, in its middle third.
const redisEvery = Number(args['redis-every'] ?? Math.min(300, seconds / 3));
const redisDown = Number(args['redis-down'] ?? Math.min(30, redisEvery / 2));
const warmup = args['warmup-minutes'] === undefined ? Math.min(120, seconds / 4) : Number(args['warmup-minutes']) * 60;
if (
  !(seconds > 0) ||
  !(rate > 0) ||
  !(wsRate >= 0) ||
  !(sampleSeconds > 0) ||
  !(redisEvery > 0) ||
  !(redisDown > 0 && redisDown < redisEvery) ||
  !(warmup >= 0 && warmup < seconds)
) {
  console.error(
    'usage: soak.mjs [--minutes M>0] [--rate R>0] [--ws-rate R>=0] [--sample-seconds S>0] [--redis-every S] [--redis-down S<every] [--warmup-minutes W<M] [--out DIR]',
  );
  process.exit(2);
}
if (!redisAvailable()) {
  console.error('soak.mjs: redis-server is not installed (Debian package "redis-server")');
  process.exit(2);
}
const outDir = args.out ?? join(repoRoot, 'bench/results/soak');
const log = (...a) => console.error('[soak]', ...a);
const MiB = 1024 * 1024;

const children = [];
let redis = await startRedis();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  redis?.proc.kill('SIGKILL');
});
const serveArgs = ['--no-log-requests'];
if (args['max-event-loop-delay-ms'] !== undefined)
  serveArgs.push('--max-event-loop-delay-ms', args['max-event-loop-delay-ms']);
const { url, proc } = await startServe(serveArgs, { env: { REDIS_URL: redis.url }, children });
const port = Number(new URL(url).port);

// ---------------------------------------------------------------------------------------------
// What is sent.

const { parity } = churnParity();
const rows = parity.rows;
const hot = (n) => ({ customer_id: rows[n % 100].customerID, ...rows[n % 100].features });
/** A row never sent before: a unique TotalCharges (x.5 steps stay exact in float32). */
const fresh = (n) => ({ ...rows[n % rows.length].features, customer_id: `soak-${n}`, TotalCharges: n + 0.5 });
const meta = await (await fetch(`${url}/v2/models/churn`)).json();
const oipBody = (n) => {
  const f = rows[n % rows.length].features;
  return JSON.stringify({
    inputs: meta.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: [1, 1], data: [f[t.name]] })),
  });
};
const PREDICT = '/v1/models/churn/predict';
/** Kind: share of the wheel (of 20), the status it must get, and its request. */
const KINDS = {
  json_hot: [8, 200, (n) => httpRequest(PREDICT, JSON.stringify(hot(n)))],
  json_new: [3, 200, (n) => httpRequest(PREDICT, JSON.stringify(fresh(n)))],
  msgpack_new: [
    2,
    200,
    (n) =>
      httpRequest(PREDICT, pack({ instances: [0, 1, 2, 3].map((k) => fresh(n * 4 + k + 1e6)) }), {
        'content-type': 'application/msgpack',
        accept: 'application/msgpack',
      }),
  ],
  oip: [2, 200, (n) => httpRequest('/v2/models/churn/infer', oipBody(n))],
  bad_feature: [1, 422, (n) => httpRequest(PREDICT, JSON.stringify({ ...hot(n), tenure: 'abc' }))],
  bad_json: [1, 400, () => httpRequest(PREDICT, '{"tenure": ')],
  unknown_model: [1, 404, (n) => httpRequest('/v1/models/nope/predict', JSON.stringify(hot(n)))],
  bad_type: [1, 415, (n) => httpRequest(PREDICT, JSON.stringify(hot(n)), { 'content-type': 'text/plain' })],
  get: [1, 200, () => httpGet('/v1/models/churn')],
};
const wheel = Object.entries(KINDS).flatMap(([kind, [share]]) => Array(share).fill(kind));
if (wheel.length !== 20) throw new Error(`the request wheel has ${wheel.length} slots, not 20`);
const nextRequest = (n) => {
  const kind = wheel[n % wheel.length];
  return { tag: kind, bytes: KINDS[kind][2](n) };
};

/** WebSocket load: `perSecond` frames over two connections until stopped; every frame must be answered. */
function wsLoad(perSecond) {
  const stats = { sent: 0, answered: 0, failed: 0, errors: {} };
  const socks = [0, 1].map(() => new WebSocket(`${url.replace('http', 'ws')}/v1/stream?model=churn`));
  const outstanding = new Set();
  let n = 0;
  let carry = 0;
  let timer;
  const opened = Promise.all(socks.map((ws) => new Promise((r, j) => ws.once('open', r).once('error', j))));
  for (const ws of socks)
    ws.on('message', (data, binary) => {
      const answer = binary ? unpack(data) : JSON.parse(data.toString());
      outstanding.delete(answer.id);
      if (answer.prediction?.churn_probability !== undefined) stats.answered++;
      else {
        stats.failed++;
        const code = answer.error?.code ?? 'no prediction';
        stats.errors[code] = (stats.errors[code] ?? 0) + 1;
      }
    });
  return {
    stats,
    async start() {
      await opened;
      let last = performance.now();
      timer = setInterval(() => {
        const now = performance.now();
        carry += ((now - last) / 1000) * perSecond;
        last = now;
        for (; carry >= 1; carry--) {
          const id = n++;
          const record = id % 3 === 0 ? fresh(id + 5e6) : hot(id);
          const ws = socks[id % 2];
          outstanding.add(id);
          stats.sent++;
          if (id % 4 === 3) ws.send(pack({ id, record }));
          else ws.send(JSON.stringify({ id, record }));
        }
      }, 10);
    },
    async stop() {
      clearInterval(timer);
      const until = performance.now() + 10_000;
      while (outstanding.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
      stats.unanswered = outstanding.size;
      for (const ws of socks) ws.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// What is watched.

async function sample(t0) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name) => metricSum(text, name, {}, Number.NaN);
  return {
    t_s: (performance.now() - t0) / 1000,
    ...procMemory(proc.pid),
    heap_used: read('nodejs_heap_size_used_bytes'),
    heap_total: read('nodejs_heap_size_total_bytes'),
    external: read('nodejs_external_memory_bytes'),
    handles: read('nodejs_active_handles_total'),
    fds: read('process_open_fds'),
    l2_connected: read('ortline_cache_l2_connected'),
    l1_entries: read('ortline_cache_l1_entries'),
  };
}

// ---------------------------------------------------------------------------------------------
// The run.

const ws = wsLoad(wsRate);
if (wsRate > 0) await ws.start();
const t0 = performance.now();
const samples = [await sample(t0)];
const events = [];
const sampler = setInterval(() => {
  sample(t0).then(
    (s) => samples.push(s),
    (err) => events.push({ t_s: (performance.now() - t0) / 1000, event: `sample failed: ${err.message}` }),
  );
}, sampleSeconds * 1000);
const chaos = [];
for (let at = redisEvery; at + redisDown < seconds; at += redisEvery) {
  chaos.push(
    setTimeout(() => {
      events.push({ t_s: (performance.now() - t0) / 1000, event: 'redis killed (SIGKILL)' });
      redis.proc.kill('SIGKILL');
    }, at * 1000),
    setTimeout(
      async () => {
        redis = await startRedis(redis.port);
        events.push({ t_s: (performance.now() - t0) / 1000, event: 'redis started again' });
      },
      (at + redisDown) * 1000,
    ),
  );
}
log(
  `${seconds / 60} min: ${rate} HTTP requests/s and ${wsRate} WebSocket frames/s; redis killed every ${redisEvery} s for ${redisDown} s`,
);
const http = await openLoop({ port, requests: nextRequest, rate, seconds, connections: 16 });
for (const t of chaos) clearTimeout(t);
clearInterval(sampler);
if (wsRate > 0) await ws.stop();
samples.push(await sample(t0));
const alive =
  proc.exitCode === null &&
  (await fetch(`${url}/readyz`).then(
    (r) => r.status === 200,
    () => false,
  ));
/** The L2 tier over the run: rows it answered, failed Redis calls, rows sent past it (breaker open, not connected). */
const l2 = await fetch(`${url}/metrics`)
  .then((r) => r.text())
  .then((text) => ({
    hits: metricSum(text, 'ortline_cache_hits_total', { tier: 'l2' }),
    errors: metricSum(text, 'ortline_cache_errors_total'),
    skipped: metricSum(text, 'ortline_cache_l2_skipped_total'),
  }))
  .catch(() => undefined);

// ---------------------------------------------------------------------------------------------
// The report.

const fitted = samples.filter((s) => s.t_s >= warmup);
const SERIES = {
  rss: { label: 'RSS', unit: 'MiB', scale: MiB },
  rss_anon: { label: 'RSS, anonymous', unit: 'MiB', scale: MiB },
  rss_file: { label: 'RSS, mapped files', unit: 'MiB', scale: MiB },
  heap_total: { label: 'V8 heap committed', unit: 'MiB', scale: MiB },
  heap_used: { label: 'V8 heap used', unit: 'MiB', scale: MiB },
  external: { label: 'external memory', unit: 'MiB', scale: MiB },
  handles: { label: 'active handles', unit: '', scale: 1 },
  fds: { label: 'open fds', unit: '', scale: 1 },
};
const trends = {};
for (const [key, { scale }] of Object.entries(SERIES)) {
  const points = fitted.filter((s) => Number.isFinite(s[key])).map((s) => ({ x: s.t_s / 3600, y: s[key] / scale }));
  if (points.length < 3) continue;
  const { slope, sd } = fitLine(points);
  const window = points.at(-1).x - points[0].x;
  trends[key] = {
    first: points[0].y,
    last: points.at(-1).y,
    slope_per_hour: slope,
    growth_over_window: slope * window,
    noise_sd: sd,
    beyond_noise: Math.abs(slope * window) > 3 * sd,
  };
}
const wrong = [];
for (const [kind, byStatus] of Object.entries(http.tags ?? {}))
  for (const [status, count] of Object.entries(byStatus))
    if (String(KINDS[kind][1]) !== status)
      wrong.push(`${count} ${kind} answered ${status} (expected ${KINDS[kind][1]})`);
if (ws.stats.failed > 0) wrong.push(`${ws.stats.failed} WebSocket frames failed: ${JSON.stringify(ws.stats.errors)}`);
if (ws.stats.unanswered > 0) wrong.push(`${ws.stats.unanswered} WebSocket frames unanswered`);
if (http.connection_errors > 0) wrong.push(`${http.connection_errors} HTTP connections broke`);
if (http.timed_out > 0) wrong.push(`${http.timed_out} HTTP requests unanswered`);
if (!alive) wrong.push('the gateway was not alive and ready at the end');

// The L1 cache holds every new row until it reaches its bound (`cache.l1.maxEntries`; expired
// entries stay until evicted): memory grows by design until then. When it got there tells which
// part of a run is the steady state.
const l1Max = Math.max(...samples.map((s) => s.l1_entries).filter(Number.isFinite));
const l1Full = samples.find((s) => s.l1_entries === l1Max)?.t_s;

const created = new Date().toISOString();
const result = {
  created,
  command: `node bench/src/soak.mjs --minutes ${args.minutes} --rate ${rate} --ws-rate ${wsRate} --sample-seconds ${sampleSeconds} --redis-every ${redisEvery} --redis-down ${redisDown} --warmup-minutes ${warmup / 60}`,
  machine: machineInfo(),
  gateway: 'ortline serve, shipped defaults, L2 on redis-server',
  seconds,
  warmup_s: warmup,
  http: {
    rate,
    answered: http.answered,
    by_kind: http.tags,
    latency_ms_200: http.statuses['200']?.latency_ms,
    timed_out: http.timed_out,
    connection_errors: http.connection_errors,
  },
  ws: { rate: wsRate, ...ws.stats },
  events,
  l2,
  l1: { max_entries_seen: l1Max, reached_s: l1Full },
  trends,
  samples,
  failures: wrong,
};
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const md = [
  '## Soak',
  '',
  `${f(seconds / 60, 0)} minutes, ${http.answered} HTTP answers (${rate}/s open loop) and ${ws.stats.answered} WebSocket answers (${wsRate}/s); redis-server killed ${events.filter((e) => e.event.startsWith('redis killed')).length} time(s) and started again.`,
  `Command: \`${result.command}\` (${result.machine.cpu}, ${result.machine.cores} cores, ${created.slice(0, 10)}).`,
  `Failed good requests or frames: ${wrong.length === 0 ? 'none' : wrong.join('; ')}.`,
  `L1 cache: ${l1Max} entries at most, first reached at ${f(l1Full / 60)} min (memory grows by design until then).`,
  '',
  `| series | after warm-up (${f(warmup, 0)} s) | end | slope per hour | growth over the fitted window | noise (sd) | beyond 3x noise |`,
  '|---|---:|---:|---:|---:|---:|---|',
  ...Object.entries(trends).map(([key, t]) => {
    const u = SERIES[key].unit ? ` ${SERIES[key].unit}` : '';
    return `| ${SERIES[key].label} | ${f(t.first)}${u} | ${f(t.last)}${u} | ${f(t.slope_per_hour, 2)}${u} | ${f(t.growth_over_window, 2)}${u} | ${f(t.noise_sd, 2)}${u} | ${t.beyond_noise ? 'yes' : 'no'} |`;
  }),
  '',
  '| kind | answers by status |',
  '|---|---|',
  ...Object.entries(http.tags ?? {}).map(
    ([kind, s]) =>
      `| ${kind} | ${Object.entries(s)
        .map(([st, c]) => `${st}: ${c}`)
        .join(', ')} |`,
  ),
  '',
  ...events.map((e) => `- ${f(e.t_s, 0)} s: ${e.event}`),
  ...(l2
    ? [
        `- L2 over the run: ${l2.hits} rows answered from Redis, ${l2.errors} failed Redis calls, ${l2.skipped} rows sent past it (none of them failed a request).`,
      ]
    : []),
  '',
].join('\n');

const minutesAxis = samples.map((s) => s.t_s / 60);
const chart = svgDocument(900, [
  {
    kind: 'line',
    title: 'Gateway memory under the soak',
    subtitle: `${result.command.replace('node bench/src/', '')} (${created.slice(0, 10)})`,
    xs: minutesAxis,
    xLabel: 'minutes',
    yLabel: 'MiB',
    height: 300,
    series: [
      { name: 'RSS', color: '#1f77b4', values: samples.map((s) => s.rss / MiB) },
      { name: 'RSS, anonymous', color: '#17becf', values: samples.map((s) => s.rss_anon / MiB) },
      { name: 'RSS, mapped files', color: '#7f7f7f', values: samples.map((s) => s.rss_file / MiB) },
      { name: 'V8 heap committed', color: '#d62728', values: samples.map((s) => s.heap_total / MiB) },
      { name: 'V8 heap used', color: '#ff7f0e', values: samples.map((s) => s.heap_used / MiB) },
      { name: 'external', color: '#2ca02c', values: samples.map((s) => s.external / MiB) },
    ],
  },
  {
    kind: 'line',
    title: 'Handles and file descriptors',
    xs: minutesAxis,
    xLabel: 'minutes',
    yLabel: 'count',
    height: 260,
    series: [
      { name: 'active handles', color: '#9467bd', values: samples.map((s) => s.handles) },
      { name: 'open fds', color: '#8c564b', values: samples.map((s) => s.fds) },
    ],
  },
  {
    kind: 'line',
    title: 'L1 cache entries (bounded by cache.l1.maxEntries)',
    xs: minutesAxis,
    xLabel: 'minutes',
    yLabel: 'entries',
    height: 220,
    series: [{ name: 'L1 entries', color: '#bcbd22', values: samples.map((s) => s.l1_entries) }],
  },
]);
writeRun(outDir, result, { md, svg: chart });
process.stdout.write(md);
proc.kill('SIGTERM');
process.exit(wrong.length === 0 ? 0 : 1);
