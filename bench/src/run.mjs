#!/usr/bin/env node
// The benchmark suite, one command:
//
//   pnpm bench [--duration 8] [--rounds 3] [--parts inprocess,http,ws] [--connections 64,256,2100]
//              [--systems ortline,ortline-l1,fastapi,fastify,fastify-x2,uws-echo]
//              [--load-generator auto|wrk|autocannon] [--timeout 5] [--inprocess-time 1000]
//              [--ws-connections 4] [--ws-window 512] [--hot-share 0.8] [--hot-size 100]
//              [--out DIR] [--no-setup] [--smoke]
//
// Parts:
//   inprocess  @ortline/scorer vs onnxruntime-node vs a pure-Rust ort loop (bench/src/inprocess.mjs)
//   http       single-record predictions over HTTP, each system in turn (bench/src/systems.mjs)
//   ws         the gateway's WebSocket stream, pipelined
// Every system answers all parity rows (same probability as sklearn and as each other, within the
// model's tolerance) before anything is timed; a wrong answer fails the run. Rounds interleave the
// systems (the order rotates each round); each figure is the median over rounds; ratios between
// systems are taken within each round, then the median. Nothing is asserted about speed.
//
// Output: bench/results/<timestamp>.{json,md,throughput.svg,latency.svg,inprocess.svg} and the same
// as bench/results/latest.*. --smoke: a second per load, one round; writes to a fresh temp dir
// (never over the committed results) unless --out is given.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkHttp, crossCheck } from './check.mjs';
import { churnParity, machineInfo, median, repoRoot } from './common.mjs';
import { machineBusySeconds, treeCpuSeconds } from './cpu.mjs';
import { load, stopLoad, wrkVersion } from './load.mjs';
import { writeMix } from './payloads.mjs';
import { charts, markdown, summary, updateReadme } from './report.mjs';
import { FASTAPI_WORKERS, fastapiVenv, gatewayBuilt, gatewayHasL1, systems } from './systems.mjs';
import { checkWs, wsPipelined } from './ws.mjs';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string' },
    rounds: { type: 'string' },
    parts: { type: 'string', default: 'inprocess,http,ws' },
    connections: { type: 'string', default: '64,256,2100' },
    systems: { type: 'string' },
    'load-generator': { type: 'string', default: 'auto' },
    timeout: { type: 'string', default: '5' },
    'inprocess-time': { type: 'string', default: '1000' },
    'ws-connections': { type: 'string', default: '4' },
    'ws-window': { type: 'string', default: '512' },
    'hot-share': { type: 'string', default: '0.8' },
    'hot-size': { type: 'string', default: '100' },
    warmup: { type: 'string' },
    out: { type: 'string' },
    'no-setup': { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  const lines = readFileSync(new URL(import.meta.url), 'utf8')
    .split('\n')
    .slice(1);
  console.log(
    lines
      .slice(
        0,
        lines.findIndex((l) => !l.startsWith('//')),
      )
      .map((l) => l.slice(3))
      .join('\n'),
  );
  process.exit(0);
}

const smoke = args.smoke;
const duration = Number(args.duration ?? (smoke ? 1 : 8));
const rounds = Number(args.rounds ?? (smoke ? 1 : 3));
const warmup = Number(args.warmup ?? (smoke ? 0 : 3));
const parts = new Set(args.parts.split(',').map((s) => s.trim()));
const levels = args.connections.split(',').map(Number);
const timeout = Number(args.timeout);
const hotShare = Number(args['hot-share']);
const hotSize = Number(args['hot-size']);
const wsOpts = { duration, connections: Number(args['ws-connections']), window: Number(args['ws-window']) };
const bad = [...parts].filter((p) => !['inprocess', 'http', 'ws'].includes(p));
if (
  bad.length ||
  !(duration > 0) ||
  !(rounds > 0) ||
  levels.some((c) => !(c > 0)) ||
  !(hotShare >= 0 && hotShare <= 1) ||
  !(hotSize >= 1)
) {
  console.error(`bench: bad options${bad.length ? ` (unknown part ${bad.join(', ')})` : ''}; see --help`);
  process.exit(2);
}

const log = (...a) => console.error('[bench]', ...a);
const created = new Date();
const stamp = created
  .toISOString()
  .replace(/\.\d+Z$/, 'Z')
  .replace(/:/g, '-');
const outDir =
  args.out ?? (smoke ? mkdtempSync(join(tmpdir(), 'ortline-bench-smoke-')) : join(repoRoot, 'bench/results'));
mkdirSync(outDir, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'ortline-bench-run-'));
const { card, parity } = churnParity();

// ---------------------------------------------------------------------------------------------
// Prerequisites: the gateway built, the FastAPI venv, a load generator.

const wanted = args.systems ? new Set(args.systems.split(',').map((s) => s.trim())) : undefined;
const l1 = gatewayHasL1();
let list = [];
if (parts.has('http') || parts.has('ws')) {
  if (!gatewayBuilt()) {
    console.error('bench: the gateway is not built (packages/gateway/dist); run `bash scripts/setup.sh` first');
    process.exit(1);
  }
  list = systems({ l1, hotShare }).filter((s) => (wanted ? wanted.has(s.id) : true));
  if (!parts.has('http')) list = list.filter((s) => s.id === 'ortline');
  if (parts.has('ws') && !list.some((s) => s.id === 'ortline')) list.unshift(systems({ l1, hotShare })[0]);
  if (wanted)
    for (const id of wanted)
      if (!systems({ l1, hotShare }).some((s) => s.id === id))
        log(`no system "${id}" (ortline-l1 needs a gateway with the L1 cache option)`);
}

if (list.some((s) => s.id === 'fastapi') && !args['no-setup']) {
  log('FastAPI peer: bench/peers/fastapi/setup.sh');
  const r = spawnSync('bash', [join(repoRoot, 'bench/peers/fastapi/setup.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) {
    console.error('bench: the FastAPI peer could not be set up (bench/peers/fastapi/setup.sh)');
    process.exit(1);
  }
}

let tool = args['load-generator'];
let toolNote = '';
if (parts.has('http')) {
  if (tool === 'auto') {
    if (!wrkVersion() && !args['no-setup']) installWrk();
    tool = wrkVersion() ? 'wrk' : 'autocannon';
    if (tool === 'autocannon') toolNote = 'wrk not found and not installable here: autocannon instead';
  } else if (tool === 'wrk' && !wrkVersion()) {
    console.error('bench: --load-generator wrk, but wrk is not installed (apt-get install wrk)');
    process.exit(1);
  } else if (!['wrk', 'autocannon'].includes(tool)) {
    console.error('bench: --load-generator must be auto, wrk or autocannon');
    process.exit(2);
  }
}

/** wrk from Debian's archive, when this user may install packages without a prompt. */
function installWrk() {
  const root = process.getuid?.() === 0;
  const sudo = !root && spawnSync('sudo', ['-n', 'true']).status === 0;
  if ((!root && !sudo) || spawnSync('apt-get', ['--version']).error) {
    log('wrk is not installed and cannot be installed here (needs apt-get as root); using autocannon');
    return;
  }
  const pre = sudo ? ['sudo', '-n'] : [];
  const run = (argv) =>
    spawnSync(pre[0] ?? argv[0], pre.length ? [...pre.slice(1), ...argv] : argv.slice(1), {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  log('installing wrk (apt-get install wrk)');
  let r = run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'wrk']);
  if (r.status !== 0) {
    run(['apt-get', 'update', '-qq']);
    r = run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'wrk']);
  }
  if (r.status !== 0) log('apt-get install wrk failed; using autocannon');
}

// ---------------------------------------------------------------------------------------------
// The started processes: stopped on every way out.

const started = [];
let interrupted = false;
async function stopAll() {
  await Promise.all(started.splice(0).map((s) => s.stop()));
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    // Nothing half-measured gets written, least of all over the committed results.
    interrupted = true;
    log(`${sig}: stopping the servers; no report is written`);
    stopLoad();
    stopAll().finally(() => {
      rmSync(scratch, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

const report = {
  kind: 'ortline-bench',
  created: created.toISOString(),
  command: `pnpm bench ${process.argv.slice(2).join(' ')}`.trim(),
  smoke,
  machine: {
    ...machineInfo(),
    kernel: release(),
    load_average_at_start: loadavg().map((x) => Number(x.toFixed(2))),
    note: 'Load generator, servers and this driver share the same cores; the machine was also shared with other work (see other_cpu_cores per measurement).',
  },
  versions: versionsAll(),
  model: { name: card.name, version: card.version, parity_rows: parity.rows.length, tolerance: parity.tolerance },
  settings: {
    parts: [...parts],
    duration_s: duration,
    rounds,
    warmup_s: warmup,
    connections: levels,
    load_generator: parts.has('http') ? tool : null,
    load_generator_note: toolNote || undefined,
    client_timeout_s: timeout,
    wrk_threads: tool === 'wrk' ? 2 : undefined,
    body: 'one record per request: {"customer_id", 19 features}; the 300 parity rows in turn',
    l1_mix: l1
      ? { hot_share: hotShare, hot_set_rows: hotSize, cold: 'a row never sent before (unique tenure and TotalCharges)' }
      : null,
    fastapi_workers: FASTAPI_WORKERS,
    ws: parts.has('ws')
      ? { connections: wsOpts.connections, window: wsOpts.window, client: 'ws (Node), in the driver process' }
      : null,
    statistic: 'median over rounds of each figure; ratios: per round (systems measured back to back), then the median',
  },
  systems: list.map(({ id, label, short, detail, answers }) => ({ id, label, short, detail, answers })),
  correctness: {},
  http: [],
  ws: null,
  inprocess: null,
  ratios: null,
};

let failed = false;
try {
  if (parts.has('inprocess')) report.inprocess = runInprocess();
  if (list.length) await runServers();
} catch (err) {
  failed = true;
  report.failure = String(err?.stack ?? err);
  log(`FAILED: ${err?.stack ?? err}`);
} finally {
  await stopAll();
}

if (interrupted) await new Promise(() => {}); // the signal handler exits
writeOutputs();
rmSync(scratch, { recursive: true, force: true });
log(`report: ${join(outDir, 'latest.md')}`);
process.exit(failed ? 1 : 0);

// ---------------------------------------------------------------------------------------------

function runInprocess() {
  const dir = join(scratch, 'inprocess');
  const argv = [join(repoRoot, 'bench/src/inprocess.mjs'), '--out', dir];
  if (smoke) argv.push('--smoke', '--batches', '1,32,256');
  else argv.push('--time', args['inprocess-time'], '--rounds', String(rounds));
  log(`in-process: node ${argv.map((a) => a.replace(repoRoot, '')).join(' ')}`);
  const r = spawnSync(process.execPath, argv, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`the in-process benchmark failed (exit ${r.status})`);
  return JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8'));
}

async function runServers() {
  // Start every system, one after the other; an idle server costs the others nothing.
  const live = new Map();
  for (const s of list) {
    const t0 = performance.now();
    log(`starting ${s.id}`);
    const r = await s.start();
    started.push(r);
    live.set(s.id, r);
    s.startup_s = (performance.now() - t0) / 1000;
    report.systems.find((x) => x.id === s.id).startup_s = Number(s.startup_s.toFixed(2));
  }

  // Correctness before timing.
  const checks = {};
  for (const s of list) {
    const url = live.get(s.id).url;
    const c = await checkHttp(s, url, parity);
    if (s.id === 'ortline-l1') {
      // The second pass comes from the cache: it must be the same answers.
      const again = await checkHttp(s, url, parity);
      c.problems.push(...again.problems.map((p) => `from L1: ${p}`));
      c.second_pass_from_l1_max_abs_diff = again.max_abs_diff_vs_sklearn;
    }
    checks[s.id] = c;
    log(
      `${s.id}: ${c.rows} parity rows, ${c.max_abs_diff_vs_sklearn === null ? 'constant answer (ceiling), shape checked' : `max |diff| vs sklearn ${c.max_abs_diff_vs_sklearn.toExponential(2)}`}${c.problems.length ? `, ${c.problems.length} PROBLEMS` : ''}`,
    );
  }
  const cross = crossCheck(checks, parity.tolerance);
  report.correctness = {
    tolerance: parity.tolerance,
    http: Object.fromEntries(
      Object.entries(checks).map(([id, c]) => [
        id,
        {
          rows: c.rows,
          max_abs_diff_vs_sklearn: c.max_abs_diff_vs_sklearn,
          second_pass_from_l1_max_abs_diff: c.second_pass_from_l1_max_abs_diff,
          problems: c.problems.slice(0, 20),
          ok: c.problems.length === 0,
        },
      ]),
    ),
    between_systems: {
      systems: cross.systems,
      max_abs_diff: cross.max_abs_diff_between_systems,
      problems: cross.problems.slice(0, 20),
      ok: cross.problems.length === 0,
    },
  };
  if (parts.has('ws')) {
    const w = await checkWs(live.get('ortline').url, parity);
    report.correctness.ws = {
      system: 'ortline',
      rows: w.rows,
      max_abs_diff_vs_sklearn: w.max_abs_diff_vs_sklearn,
      problems: w.problems.slice(0, 20),
      ok: w.problems.length === 0,
    };
    log(`ortline ws: ${w.rows} parity frames, max |diff| ${w.max_abs_diff_vs_sklearn.toExponential(2)}`);
  }
  const wrong = [
    ...Object.values(checks).flatMap((c) => c.problems),
    ...cross.problems,
    ...(report.correctness.ws?.problems ?? []),
  ];
  if (wrong.length) throw new Error(`wrong answers before timing:\n  ${wrong.slice(0, 10).join('\n  ')}`);

  // Payload files, and a counter that keeps "cold" rows unique over the whole run.
  const mixes = { cycle: writeMix(scratch, 'cycle', parity), hot: undefined };
  let coldStart = 0;
  const mixFor = (s) => {
    if (s.mix !== 'hot') return mixes.cycle;
    coldStart += 20_000_000;
    return writeMix(scratch, 'hot', parity, { hotSize, share: hotShare, start: coldStart });
  };

  const measure = async (s, connections, round) => {
    const srv = live.get(s.id);
    if (!srv.alive) return { round, failed: `${s.id} is not running any more` };
    const before = await snapshot(s, srv);
    let r;
    try {
      r = await load({
        tool,
        url: `${srv.url}/v1/models/churn/predict`,
        connections,
        duration,
        timeout,
        mix: mixFor(s),
        scratch,
        seed: round * 1000 + connections,
      });
    } catch (err) {
      return { round, failed: String(err.message ?? err).slice(0, 500) };
    }
    const after = await snapshot(s, srv);
    return { round, ...r, ...usage(before, after, r), ...(srv.alive ? {} : { crashed: true }) };
  };

  if (warmup > 0 && parts.has('http')) {
    log(`warm-up: ${warmup}s at 64 connections per system`);
    for (const s of list)
      await load({
        tool,
        url: `${live.get(s.id).url}/v1/models/churn/predict`,
        connections: 64,
        duration: warmup,
        timeout,
        mix: mixFor(s),
        scratch,
        seed: 1,
      });
  }

  const samples = new Map(); // `${id}@${c}` -> rounds
  const wsSamples = [];
  for (let round = 0; round < rounds; round++) {
    if (parts.has('http')) {
      for (const [li, c] of levels.entries()) {
        const k = (round + li) % list.length;
        for (const s of [...list.slice(k), ...list.slice(0, k)]) {
          const m = await measure(s, c, round);
          if (!samples.has(`${s.id}@${c}`)) samples.set(`${s.id}@${c}`, []);
          samples.get(`${s.id}@${c}`).push(m);
          log(
            `round ${round + 1}/${rounds} c=${c} ${s.id}: ${m.failed ? `FAILED ${m.failed}` : `${Math.round(m.rps)}/s p50 ${fmtMs(m.latency_ms.p50)} p99 ${fmtMs(m.latency_ms.p99)} errors ${m.errors.total} cpu ${m.server_cpu_cores.toFixed(2)}${m.mean_batch_rows ? ` batch ${m.mean_batch_rows.toFixed(1)}` : ''}${m.l1_hit_ratio !== undefined ? ` hit ${(m.l1_hit_ratio * 100).toFixed(1)}%` : ''}`}`,
          );
        }
      }
    }
    if (parts.has('ws')) {
      const s = list.find((x) => x.id === 'ortline');
      const srv = live.get('ortline');
      const before = await snapshot(s, srv);
      const self0 = process.cpuUsage();
      const w = await wsPipelined(srv.url, parity, wsOpts);
      const self1 = process.cpuUsage(self0);
      const after = await snapshot(s, srv);
      const u = usage(before, after, { wall_s: w.seconds, loadgen_cpu_s: (self1.user + self1.system) / 1e6 });
      wsSamples.push({ round, ...w, ...u });
      log(
        `round ${round + 1}/${rounds} ws: ${Math.round(w.predictions_per_s)} predictions/s, errors ${w.errors}, cpu ${u.server_cpu_cores.toFixed(2)}`,
      );
    }
  }

  // Still right after the load?
  for (const s of list) {
    if (!live.get(s.id).alive) {
      report.correctness.http[s.id].after_load = { ok: false, problems: ['not running'] };
      continue;
    }
    const c = await checkHttp(s, live.get(s.id).url, parity, parity.rows.slice(0, 20));
    report.correctness.http[s.id].after_load = {
      rows: c.rows,
      ok: c.problems.length === 0,
      problems: c.problems.slice(0, 5),
    };
  }

  // Medians and ratios.
  for (const s of list) {
    for (const c of levels) {
      const all = samples.get(`${s.id}@${c}`) ?? [];
      const ok = all.filter((m) => !m.failed);
      const med = (f) => (ok.length ? median(ok.map(f).filter((x) => x !== undefined && !Number.isNaN(x))) : null);
      report.http.push({
        system: s.id,
        connections: c,
        median: ok.length
          ? {
              rps: med((m) => m.rps),
              latency_ms: {
                p50: med((m) => m.latency_ms.p50),
                p90: med((m) => m.latency_ms.p90),
                p99: med((m) => m.latency_ms.p99),
              },
              errors: med((m) => m.errors.total),
              timeouts: med((m) => m.errors.timeout),
              connect_errors: med((m) => m.errors.connect),
              non2xx: med((m) => m.errors.non2xx),
              error_share: med(
                (m) =>
                  m.errors.total /
                  Math.max(1, m.requests + m.errors.connect + m.errors.read + m.errors.write + m.errors.timeout),
              ),
              server_cpu_cores: med((m) => m.server_cpu_cores),
              requests_per_cpu_s: med((m) => m.requests_per_cpu_s),
              loadgen_cpu_cores: med((m) => m.loadgen_cpu_cores),
              other_cpu_cores: med((m) => m.other_cpu_cores),
              ...(s.gateway ? { mean_batch_rows: med((m) => m.mean_batch_rows) } : {}),
              ...(s.id === 'ortline-l1' ? { l1_hit_ratio: med((m) => m.l1_hit_ratio) } : {}),
            }
          : null,
        rounds: all,
      });
    }
  }
  if (wsSamples.length) {
    report.ws = {
      system: 'ortline',
      median: {
        predictions_per_s: median(wsSamples.map((w) => w.predictions_per_s)),
        errors: median(wsSamples.map((w) => w.errors)),
        server_cpu_cores: median(wsSamples.map((w) => w.server_cpu_cores)),
        mean_batch_rows: median(wsSamples.map((w) => w.mean_batch_rows)),
        other_cpu_cores: median(wsSamples.map((w) => w.other_cpu_cores)),
      },
      rounds: wsSamples,
    };
  }
  report.ratios = ratios(samples);
}

/** CPU counters (and the gateway's batch and cache counters) around one measurement. */
async function snapshot(s, srv) {
  const snap = { cpu: treeCpuSeconds(srv.pid), busy: machineBusySeconds(), self: process.cpuUsage() };
  if (s.gateway) {
    try {
      const text = await (await fetch(`${srv.url}/metrics`)).text();
      const sum = (re) => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
      snap.batchSum = sum(/^ortline_batch_rows_sum\{[^}]*\} (\S+)$/gm);
      snap.batchCount = sum(/^ortline_batch_rows_count\{[^}]*\} (\S+)$/gm);
      snap.hits = sum(/^ortline_cache_hits_total\{[^}]*tier="l1"[^}]*\} (\S+)$/gm);
      snap.misses = sum(/^ortline_cache_misses_total\{[^}]*tier="l1"[^}]*\} (\S+)$/gm);
    } catch {}
  }
  // Read the CPU counters again after the scrape so the scrape is not billed to the run.
  snap.cpu = treeCpuSeconds(srv.pid);
  snap.busy = machineBusySeconds();
  snap.self = process.cpuUsage();
  return snap;
}

function usage(a, b, r) {
  // The generator's own run time (wrk's init, which formats the requests, is idle time for the server).
  const wall = r.seconds ?? r.wall_s;
  const server = b.cpu - a.cpu;
  const self = (b.self.user - a.self.user + b.self.system - a.self.system) / 1e6;
  const busy = b.busy - a.busy;
  const out = {
    server_cpu_s: server,
    server_cpu_cores: server / wall,
    loadgen_cpu_cores: r.loadgen_cpu_s / wall,
    // Everything else the machine did meanwhile: other people's work on a shared box.
    other_cpu_cores: Math.max(0, (busy - server - r.loadgen_cpu_s - (r.requests !== undefined ? self : 0)) / wall),
  };
  if (r.requests !== undefined) out.requests_per_cpu_s = (r.rps * r.seconds) / server;
  if (a.batchCount !== undefined && b.batchCount !== undefined) {
    const n = b.batchCount - a.batchCount;
    out.mean_batch_rows = n > 0 ? (b.batchSum - a.batchSum) / n : undefined;
    const lookups = b.hits - a.hits + (b.misses - a.misses);
    if (lookups > 0) out.l1_hit_ratio = (b.hits - a.hits) / lookups;
  }
  return out;
}

/**
 * Per level: the gateway's requests/s over each other system's (`rps`), and its requests per
 * server CPU-second over theirs (`per_cpu`), round by round, then the median.
 */
function ratios(samples) {
  const out = {};
  const gateways = list.filter((s) => s.gateway).map((s) => s.id);
  const ratio = (a, b, f) => {
    const per = a
      .map((x, i) => (x.failed || !b[i] || b[i].failed || !(f(b[i]) > 0) ? NaN : f(x) / f(b[i])))
      .filter(Number.isFinite);
    return per.length ? median(per) : null;
  };
  for (const g of gateways) {
    out[g] = {};
    for (const c of levels) {
      out[g][c] = {};
      for (const s of list) {
        if (s.id === g) continue;
        const a = samples.get(`${g}@${c}`) ?? [];
        const b = samples.get(`${s.id}@${c}`) ?? [];
        out[g][c][s.id] = ratio(a, b, (m) => m.rps);
        out[g][c].per_cpu ??= {};
        out[g][c].per_cpu[s.id] = ratio(a, b, (m) => m.requests_per_cpu_s);
      }
    }
  }
  return out;
}

function writeOutputs() {
  const json = `${JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v), 2)}\n`;
  const svgs = charts(report);
  const names = (prefix) => Object.fromEntries(Object.keys(svgs).map((k) => [k, `${prefix}.${k}.svg`]));
  for (const prefix of [stamp, 'latest']) {
    writeFileSync(join(outDir, `${prefix}.json`), json);
    writeFileSync(join(outDir, `${prefix}.md`), markdown(report, names(prefix)));
    for (const [k, svg] of Object.entries(svgs)) writeFileSync(join(outDir, `${prefix}.${k}.svg`), svg);
  }
  log(
    `wrote ${join(outDir, stamp)}.{json,md,${Object.keys(svgs)
      .map((k) => `${k}.svg`)
      .join(',')}} and latest.*`,
  );
  // A complete run into the committed results also refreshes the figures in bench/README.md.
  const readme = join(repoRoot, 'bench/README.md');
  const complete = parts.size === 3 && !wanted && report.http.length > 0;
  if (
    !smoke &&
    !args.out &&
    !failed &&
    complete &&
    existsSync(readme) &&
    updateReadme(readme, summary(report, 'results', names('latest')))
  ) {
    log('updated the figures in bench/README.md');
  }
}

function versionsAll() {
  const pkg = (p) => {
    try {
      return JSON.parse(readFileSync(join(repoRoot, p), 'utf8')).version;
    } catch {
      return null;
    }
  };
  const v = {
    node: process.version,
    '@ortline/gateway': pkg('packages/gateway/package.json'),
    '@ortline/scorer': pkg('packages/scorer/package.json'),
    'onnxruntime-node': pkg('bench/node_modules/onnxruntime-node/package.json'),
    fastify: pkg('bench/node_modules/fastify/package.json'),
    'uWebSockets.js': pkg('bench/node_modules/uWebSockets.js/package.json'),
    autocannon: pkg('bench/node_modules/autocannon/package.json'),
    wrk: wrkVersion() ?? null,
  };
  const py = spawnSync(
    join(fastapiVenv, 'bin/python'),
    [
      '-c',
      'import sys, json, importlib.metadata as m; print(json.dumps({"python": sys.version.split()[0], **{p: m.version(p) for p in ["fastapi", "uvicorn", "pydantic", "starlette", "uvloop", "httptools", "onnxruntime", "numpy"]}}))',
    ],
    { encoding: 'utf8' },
  );
  if (py.status === 0)
    for (const [k, x] of Object.entries(JSON.parse(py.stdout))) v[k === 'python' ? 'python' : `${k} (python)`] = x;
  return v;
}

function fmtMs(x) {
  return Number.isFinite(x) ? `${x.toFixed(2)}ms` : 'n/a';
}
