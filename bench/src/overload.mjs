#!/usr/bin/env node
// Overload: what the gateway does when asked for more than it can do. `ortline serve` (the
// shipped defaults, the L1 cache off so every row is scored) is first measured closed loop for its
// capacity in requests a second; then an open-loop generator (bench/src/openloop.mjs) offers 2x and
// 10x that rate, each request `--records` customers from the parity rows.
//
//   node bench/src/overload.mjs [--seconds 10] [--records 64] [--multiples 2,10] [--out DIR] [--smoke]
//
// Reported for each rate: answers by status with latency percentiles from the scheduled send time
// (the client's view), the refusals' server time (the gateway's own request histogram: the share
// answered within 1 ms, from its arrival to the answer written), the gateway's peak RSS (sampled
// from /proc every 100 ms), requests the generator could not send, connection errors, and
// whether the gateway was still alive and ready after. Targets (not asserted: these machines are
// noisy): answered requests' p99 under the deadline, refusals within 1 ms of server time, bounded
// memory, no crash. The run fails (exit 1) only if the gateway died or a connection broke.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { churnParity, machineInfo, repoRoot, writeRun } from './common.mjs';
import { treeCpuSeconds } from './cpu.mjs';
import { closedLoop, httpRequest, openLoop } from './openloop.mjs';
import { overloadMarkdown } from './overload-report.mjs';
import { procMemory } from './probe.mjs';
import { startServe } from './serve.mjs';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    records: { type: 'string', default: '64' },
    multiples: { type: 'string', default: '2,10' },
    out: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
const seconds = args.smoke ? 1 : Number(args.seconds);
const records = Number(args.records);
const multiples = args.multiples.split(',').map(Number);
if (!(seconds > 0) || !(records >= 1) || multiples.some((m) => !(m > 0))) {
  console.error('usage: overload.mjs [--seconds S>0] [--records N>=1] [--multiples 2,10] [--out DIR] [--smoke]');
  process.exit(2);
}
const outDir =
  args.out ??
  (args.smoke ? mkdtempSync(join(tmpdir(), 'ortline-bench-overload-')) : join(repoRoot, 'bench/results/overload'));
const log = (...a) => console.error('[overload]', ...a);

const children = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

const { parity } = churnParity();
const requests = [];
for (let i = 0; i < 64; i++) {
  const instances = Array.from({ length: records }, (_, j) => {
    const row = parity.rows[(i * records + j) % parity.rows.length];
    return { customer_id: `${row.customerID}-${i}-${j}`, ...row.features };
  });
  requests.push(httpRequest('/v1/models/churn/predict', JSON.stringify({ instances })));
}

const { url, proc } = await startServe(['--no-cache-l1-enabled', '--no-log-requests'], { children });
const port = Number(new URL(url).port);
const config = await (await fetch(`${url}/v1/models/churn`)).json().catch(() => ({}));

const rssMiB = () => procMemory(proc.pid).rss / (1024 * 1024);

/**
 * The v1 predict histogram, summed over versions ({ status: { le: count } }), and the requests
 * shed before their body was read, by reason (`shed`).
 */
async function histogram() {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = { shed: {} };
  for (const m of text.matchAll(/^ortline_requests_shed_total\{reason="(\w+)"\} (\S+)$/gm))
    out.shed[m[1]] = Number(m[2]);
  const re = /^ortline_request_duration_seconds_bucket\{([^}]*)\} (\S+)$/gm;
  for (const m of text.matchAll(re)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels.route !== 'v1_predict') continue;
    out[labels.status] ??= {};
    const byLe = out[labels.status];
    byLe[labels.le] = (byLe[labels.le] ?? 0) + Number(m[2]);
  }
  return out;
}

/** Per refusal status: how many in the run, and the share answered within 1 ms of server time. */
function refusalServerTime(before, after) {
  const out = {};
  for (const [status, byLe] of Object.entries(after)) {
    if (status === '200' || status === 'shed') continue;
    const d = (le) => (byLe[le] ?? 0) - (before[status]?.[le] ?? 0);
    const count = d('+Inf');
    if (count > 0) out[status] = { count, within_1ms: d('0.001') / count, within_250us: d('0.00025') / count };
  }
  return out;
}

async function ready() {
  try {
    return (await fetch(`${url}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

const result = {
  created: new Date().toISOString(),
  command: `node bench/src/overload.mjs --seconds ${seconds} --records ${records} --multiples ${multiples.join(',')}${args.smoke ? ' --smoke' : ''}`,
  machine: machineInfo(),
  gateway: 'ortline serve, shipped defaults (requestTimeoutMs 10000, batcher.maxQueueMs 1000), L1 cache off',
  request: { records, bytes: requests[0].length, model: config.name ?? 'churn' },
  rss_mib_ready: rssMiB(),
  capacity: null,
  runs: [],
};
let failed = false;
try {
  log(`capacity: closed loop, 64 connections, ${seconds} s`);
  const c0 = { gateway: treeCpuSeconds(proc.pid), generator: process.cpuUsage() };
  const closed = await closedLoop({ port, requests, seconds, connections: 64 });
  const c1 = process.cpuUsage(c0.generator);
  const capacity = closed.per_second['200'] ?? 0;
  result.capacity = {
    requests_per_second: capacity,
    rows_per_second: capacity * records,
    ...closed,
    cpu_seconds: { gateway: treeCpuSeconds(proc.pid) - c0.gateway, generator: (c1.user + c1.system) / 1e6 },
  };
  log(`capacity: ${capacity.toFixed(0)} requests/s (${(capacity * records).toFixed(0)} rows/s)`);
  for (const m of multiples) {
    await new Promise((r) => setTimeout(r, 1000));
    const before = await histogram();
    let peak = rssMiB();
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMiB());
    }, 100);
    const rate = Math.max(1, Math.round(capacity * m));
    log(`${m}x: ${rate} requests/s open loop for ${seconds} s`);
    const cpu0 = { gateway: treeCpuSeconds(proc.pid), generator: process.cpuUsage() };
    const run = await openLoop({ port, requests, rate, seconds });
    clearInterval(sampler);
    const own = process.cpuUsage(cpu0.generator);
    const alive = proc.exitCode === null && (await ready());
    const after = await histogram();
    result.runs.push({
      multiple: m,
      ...run,
      refusal_server_time: refusalServerTime(before, after),
      shed_before_body: Object.fromEntries(
        Object.entries(after.shed).map(([reason, n]) => [reason, n - (before.shed[reason] ?? 0)]),
      ),
      peak_rss_mib: peak,
      // The two share the machine's cores: what the generator takes, the gateway cannot use.
      cpu_seconds: { gateway: treeCpuSeconds(proc.pid) - cpu0.gateway, generator: (own.user + own.system) / 1e6 },
      alive_after: alive,
    });
    if (!alive || run.connection_errors > 0) failed = true;
  }
} catch (err) {
  result.failure = String(err?.stack ?? err);
  failed = true;
}

const md = overloadMarkdown(result);
writeRun(outDir, result, { md });
process.stdout.write(md);
proc.kill('SIGTERM');
process.exit(failed ? 1 : 0);
