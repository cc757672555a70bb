#!/usr/bin/env node
// What watching the model costs: gateway throughput with drift off (the baseline), drift on (the
// default), drift on with the traffic log sampling 1 % of rows, and with it logging every row.
//
//   node bench/src/monitor.mjs [--duration 5] [--rounds 3] [--connections 64] [--out DIR] [--smoke]
//
// Needs: packages/gateway built and wrk (Debian package). Each configuration is an `ortline serve`
// child process; wrk sends single-record v1 predictions, the 300 parity rows in turn (so the L1
// cache answers most of them: the cheapest request, on which the monitoring's own cost weighs the
// most). Rounds interleave the configurations, the order rotating each round; each figure is the
// median over rounds, and each ratio is taken within a round against that round's baseline, then
// the median. Beside throughput, the server's own CPU time per request (from /proc), which the
// load generator sharing the two cores disturbs less. The traffic log's rows written and dropped
// are read from each gateway's metrics.
// Nothing is asserted: figures are reported (the target: drift plus 1 % logging within 5 % of the
// baseline's throughput).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { activeModelDir, churnParity, machineInfo, median, repoRoot } from './common.mjs';
import { treeCpuSeconds } from './cpu.mjs';
import { load, wrkVersion } from './load.mjs';
import { writeMix } from './payloads.mjs';
import { startServe } from './serve.mjs';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    out: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
const duration = args.smoke ? 1 : Number(args.duration);
const rounds = args.smoke ? 1 : Number(args.rounds);
const connections = Number(args.connections);
if (!(duration > 0) || !(rounds > 0) || !(connections > 0)) {
  console.error('usage: monitor.mjs [--duration S>0] [--rounds N>0] [--connections N>0] [--out DIR] [--smoke]');
  process.exit(2);
}
if (!wrkVersion()) {
  console.error('monitor.mjs: wrk is not installed (Debian package "wrk")');
  process.exit(2);
}
const outDir =
  args.out ??
  (args.smoke ? mkdtempSync(join(tmpdir(), 'ortline-bench-monitor-')) : join(repoRoot, 'bench/results/monitor'));
mkdirSync(outDir, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'ortline-bench-monitor-run-'));
const log = (...a) => console.error('[monitor]', ...a);

const children = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

const CONFIGS = [
  { name: 'drift off', flags: ['--no-drift-enabled'] },
  { name: 'drift on', flags: [] },
  { name: 'drift on, traffic log 1 %', flags: ['--traffic-log-sample-rate', '0.01'], log: true },
  { name: 'drift on, traffic log 100 %', flags: ['--traffic-log-sample-rate', '1'], log: true },
];

const { parity } = churnParity();
const mix = writeMix(scratch, 'parity', parity);
const gateways = [];
for (const [i, c] of CONFIGS.entries()) {
  const dir = join(scratch, `log-${i}`);
  const gw = await startServe(['--no-log-requests', '--traffic-log-dir', dir, ...c.flags], { children });
  gateways.push({ ...c, ...gw, dir });
}

async function logCounters(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (re) => Number(re.exec(text)?.[1] ?? 0);
  return {
    written: read(/^ortline_traffic_log_rows_total (\S+)$/m),
    dropped: read(/^ortline_traffic_log_dropped_rows_total\{reason="full"\} (\S+)$/m),
  };
}

const perRound = gateways.map(() => []);
for (let r = 0; r < rounds; r++) {
  const order = gateways.map((_, i) => (i + r) % gateways.length);
  for (const i of order) {
    const g = gateways[i];
    const cpu0 = treeCpuSeconds(g.proc.pid);
    const res = await load({
      tool: 'wrk',
      url: `${g.url}/v1/models/churn/predict`,
      connections,
      duration,
      timeout: 5,
      mix,
      scratch,
      seed: r,
    });
    if (res.errors.total > 0) throw new Error(`${g.name}: ${JSON.stringify(res.errors)}`);
    // The server's own CPU per answer: steadier than throughput on a machine the load generator shares.
    res.server_us_per_request = ((treeCpuSeconds(g.proc.pid) - cpu0) * 1e6) / res.requests;
    perRound[i].push(res);
    log(
      `round ${r + 1}/${rounds} ${g.name}: ${Math.round(res.rps)} req/s, ${res.server_us_per_request.toFixed(1)} µs CPU/request, p99 ${res.latency_ms.p99} ms`,
    );
  }
}

/**
 * In process, exactly: what counting one row in a drift window costs, and what rendering and
 * queueing one traffic-log line costs (a sampled row; at 1 % a request pays a hundredth of it).
 */
async function perRowCosts() {
  const { DriftBins, DriftWindow, TrafficLogWriter } = await import(join(repoRoot, 'packages/monitor/dist/index.js'));
  const card = JSON.parse(readFileSync(join(activeModelDir('churn'), 'model.json'), 'utf8'));
  const records = parity.rows.map((r) => JSON.parse(JSON.stringify({ customer_id: r.customerID, ...r.features })));
  const window = new DriftWindow(DriftBins.fromCard(card), { rows: 10_000 });
  const one = new Float64Array([0.3]);
  const writer = await TrafficLogWriter.open({
    dir: join(scratch, 'per-row'),
    maxQueueLines: 1_000_000,
    maxFileBytes: 1 << 30,
    rotateSeconds: 3600,
  });
  const time = (fn) => {
    const samples = [];
    for (let r = 0; r < Math.max(3, rounds); r++) {
      for (let i = 0; i < 20_000; i++) fn(i);
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 300) {
        for (let i = 0; i < 1000; i++) fn(n + i);
        n += 1000;
      }
      samples.push(((performance.now() - t0) * 1e6) / n);
    }
    return Math.round(median(samples));
  };
  const drift = time((i) => window.observe([records[i % records.length]], one));
  const logLine = time((i) => {
    const record = records[i % records.length];
    writer.offer(
      JSON.stringify({
        time: new Date().toISOString(),
        request_id: 'r',
        model: 'churn',
        version: '1',
        route: 'active',
        id: record.customer_id,
        features: record,
        probability: 0.3,
        risk: 'Low',
        latency_ms: 1,
        cache: 'l1',
      }),
    );
  });
  await writer.close();
  return { drift_ns_per_row: drift, traffic_log_ns_per_logged_row: logLine };
}

const perRow = await perRowCosts();
log(
  `in process: drift ${perRow.drift_ns_per_row} ns a row; a traffic-log line ${perRow.traffic_log_ns_per_logged_row} ns`,
);

const results = [];
for (const [i, g] of gateways.entries()) {
  const runs = perRound[i];
  const ratio = median(runs.map((run, r) => run.rps / perRound[0][r].rps));
  const cpuRatio = median(runs.map((run, r) => run.server_us_per_request / perRound[0][r].server_us_per_request));
  results.push({
    config: g.name,
    rps: Math.round(median(runs.map((x) => x.rps))),
    p50_ms: median(runs.map((x) => x.latency_ms.p50)),
    p99_ms: median(runs.map((x) => x.latency_ms.p99)),
    ratio_to_drift_off: Math.round(ratio * 1000) / 1000,
    server_us_per_request: Math.round(median(runs.map((x) => x.server_us_per_request)) * 10) / 10,
    cpu_ratio_to_drift_off: Math.round(cpuRatio * 1000) / 1000,
    rounds_rps: runs.map((x) => Math.round(x.rps)),
    ...(g.log ? { traffic_log: await logCounters(g.url) } : {}),
  });
}
for (const g of gateways) {
  const exited = new Promise((r) => g.proc.once('exit', r));
  g.proc.kill('SIGTERM');
  await exited;
}

const created = new Date();
const report = {
  created: created.toISOString(),
  command: `node bench/src/monitor.mjs --duration ${duration} --rounds ${rounds} --connections ${connections}${args.smoke ? ' --smoke' : ''}`,
  machine: machineInfo(),
  wrk: wrkVersion(),
  load: {
    connections,
    duration_s: duration,
    rounds,
    requests: 'single-record v1 predictions, the 300 parity rows in turn',
  },
  per_row: perRow,
  results,
};
const md = [
  '# What watching the model costs',
  '',
  `\`${report.command}\` on ${report.machine.cpu}, ${report.created}. wrk ${report.wrk}, ${connections} connections, ${duration} s per run, ${rounds} round(s), medians; the ratio is taken within each round against drift off.`,
  '',
  '| configuration | req/s | ratio to drift off | server CPU µs / request | CPU ratio to drift off | p50 ms | p99 ms | log rows written | log rows dropped |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (x) =>
      `| ${x.config} | ${x.rps.toLocaleString('en')} | ${x.ratio_to_drift_off.toFixed(3)} | ${x.server_us_per_request} | ${x.cpu_ratio_to_drift_off.toFixed(3)} | ${x.p50_ms} | ${x.p99_ms} | ${x.traffic_log?.written ?? ''} | ${x.traffic_log?.dropped ?? ''} |`,
  ),
  '',
  `In process (exact, where the HTTP figures above move by a few per cent from run to run on this machine): counting one row in a drift window costs ${perRow.drift_ns_per_row} ns; rendering and queueing one traffic-log line ${perRow.traffic_log_ns_per_logged_row} ns, so at 1 % sampling ${Math.round(perRow.traffic_log_ns_per_logged_row / 100)} ns a row. Against the ${results[0].server_us_per_request} µs of server CPU a single-record request costs with drift off, that is ${((100 * (perRow.drift_ns_per_row + perRow.traffic_log_ns_per_logged_row / 100)) / (results[0].server_us_per_request * 1000)).toFixed(1)} % for drift plus 1 % logging.`,
  '',
].join('\n');
const stamp = created.toISOString().replace(/[:.]/g, '-');
for (const name of [stamp, 'latest']) {
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, `${name}.md`), md);
}
console.log(md);
log(`written to ${outDir}`);
