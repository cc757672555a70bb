#!/usr/bin/env node
// The benchmark suite, one command:
//
//   pnpm bench [--duration 8] [--rounds 3] [--parts inprocess,latency,http,ws,reload,overload,soak,bulk] [--connections 64,256,2100]
//              [--systems ortline,ortline-l1,fastapi,fastify,fastify-x2,uws-echo]
//              [--load-generator auto|wrk|autocannon] [--timeout 5] [--inprocess-time 1000]
//              [--ws-connections 4] [--ws-window 512] [--hot-share 0.8] [--hot-size 100] [--reload-cycles 1000]
//              [--minutes 30] [--out DIR] [--no-setup] [--smoke]
//
// Parts:
//   inprocess  @ortline/scorer vs onnxruntime-node vs a pure-Rust ort loop (bench/src/inprocess.mjs)
//   http       single-record predictions over HTTP, each system in turn (bench/src/systems.mjs)
//   ws         the gateway's WebSocket stream, pipelined
//   reload     (not in the default set: a soak) memory while a model version is loaded, canaried and
//              unloaded over and over under light load (bench/src/reload.mjs)
//   overload   (not in the default set) capacity closed loop, then 2x and 10x offered open loop, for
//              --duration seconds each (bench/src/overload.mjs)
//   soak       (not in the default set) --minutes of mixed HTTP and WebSocket load, good and bad,
//              with Redis killed and started again; memory, handles and fds sampled and fitted
//              (bench/src/soak.mjs; --smoke: one minute)
//   bulk       (not in the default set) `ortline score` against pandas + onnxruntime, CSV to CSV and
//              Parquet to Parquet on a generated 1,000,000-row file, each on one core
//              (bench/src/bulk.mjs; --smoke: 20,000 rows)
// Every system answers all parity rows (same probability as sklearn and as each other, within the
// model's tolerance) before anything is timed; a wrong answer fails the run. Rounds interleave the
// systems (the order rotates each round); each figure is the median over rounds; ratios between
// systems are taken within each round, then the median. Nothing is asserted about speed.
//
// Output: bench/results/<timestamp>.{json,md,throughput.svg,latency.svg,inprocess.svg} and the same
// as bench/results/latest.*. --smoke: a second per load, one round; writes to a fresh temp dir
// (never over the committed results) unless --out is given.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHttp, crossCheck } from './check.mjs';
import { churnParity, machineInfo, median, repoRoot } from './common.mjs';
import { load, stopLoad, wrkVersion } from './load.mjs';
import { benchOptions } from './options.mjs';
import { writeMix } from './payloads.mjs';
import { pickLoadGenerator, setUpFastapiPeer } from './prerequisites.mjs';
import { charts, markdown } from './report.mjs';
import { cpuUsage, ratios, snapshot } from './stats.mjs';
import { FASTAPI_WORKERS, fastapiVenv, gatewayBuilt, gatewayHasL1, systems } from './systems.mjs';
import { checkWs, wsPipelined } from './ws.mjs';

const { args, smoke, duration, rounds, warmup, parts, levels, timeout, hotShare, hotSize, wsOpts, wanted } =
  benchOptions(process.argv.slice(2));
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

const l1 = gatewayHasL1();
let list = [];
if (parts.has('http') || parts.has('ws')) {
  if (!gatewayBuilt()) {
    console.error(
      'bench: the gateway is not built (packages/cli/dist, packages/gateway/dist); run `bash scripts/setup.sh` first',
    );
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

if (list.some((s) => s.id === 'fastapi') && !args['no-setup']) setUpFastapiPeer(log);
const { tool, note: toolNote } = parts.has('http')
  ? pickLoadGenerator(args['load-generator'])
  : { tool: null, note: '' };

// ---------------------------------------------------------------------------------------------
// The started processes: stopped on every way out.

const started = [];
/** The soak's chart (SVG), written beside the suite's own. */
let soakChart;
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
  reload: null,
  overload: null,
  soak: null,
  bulk: null,
  ratios: null,
};

let failed = false;
try {
  if (parts.has('inprocess')) report.inprocess = runInprocess();
  if (parts.has('latency')) report.latency = runLatency();
  if (parts.has('reload')) report.reload = runReload();
  if (parts.has('overload')) report.overload = runOverload();
  if (parts.has('soak')) report.soak = runSoak();
  if (parts.has('bulk')) report.bulk = runBulk();
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
if (!smoke && !args.out && !failed)
  log('to put its figures into bench/README.md: node bench/src/report.mjs bench/results/latest.json --readme');
process.exit(failed ? 1 : 0);

// ---------------------------------------------------------------------------------------------

/**
 * Runs one part's own script (which writes its latest.* into `--out DIR`) as a child process;
 * returns its result (with its latest.md as `markdown` when the suite's report takes it whole)
 * and the folder it wrote.
 */
function runPart(label, script, options, { nodeFlags = [], markdown = false } = {}) {
  const dir = join(scratch, script.replace(/\.mjs$/, ''));
  const argv = [...nodeFlags, join(repoRoot, 'bench/src', script), '--out', dir, ...options];
  log(`${label}: node ${argv.map((a) => a.replace(repoRoot, '')).join(' ')}`);
  const r = spawnSync(process.execPath, argv, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`the ${label} part failed (exit ${r.status})`);
  const result = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8'));
  if (markdown) result.markdown = readFileSync(join(dir, 'latest.md'), 'utf8');
  return { result, dir };
}

function runInprocess() {
  const options = smoke
    ? ['--smoke', '--batches', '1,32,256']
    : ['--time', args['inprocess-time'], '--rounds', String(rounds)];
  return runPart('in-process', 'inprocess.mjs', options).result;
}

function runLatency() {
  return runPart('latency', 'latency.mjs', smoke ? ['--smoke'] : ['--rounds', String(rounds)], { markdown: true })
    .result;
}

function runReload() {
  const options = smoke ? ['--smoke'] : ['--cycles', args['reload-cycles']];
  return runPart('reload', 'reload.mjs', options, { nodeFlags: ['--expose-gc'] }).result;
}

function runOverload() {
  return runPart('overload', 'overload.mjs', smoke ? ['--smoke'] : ['--seconds', String(duration)]).result;
}

function runSoak() {
  const options = ['--minutes', smoke ? '1' : args.minutes, ...(smoke ? ['--sample-seconds', '5'] : [])];
  const { result, dir } = runPart('soak', 'soak.mjs', options, { markdown: true });
  // Its table goes into the suite's report, its chart beside the suite's own.
  soakChart = readFileSync(join(dir, 'latest.svg'), 'utf8');
  return result;
}

function runBulk() {
  return runPart('bulk', 'bulk.mjs', smoke ? ['--smoke'] : ['--runs', String(rounds)], { markdown: true }).result;
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
    return { round, ...r, ...cpuUsage(before, after, r), ...(srv.alive ? {} : { crashed: true }) };
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
      const u = cpuUsage(before, after, { wall_s: w.seconds, loadgen_cpu_s: (self1.user + self1.system) / 1e6 });
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
  report.ratios = ratios(samples, list, levels);
}

function writeOutputs() {
  const json = `${JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v), 2)}\n`;
  const svgs = charts(report);
  if (soakChart) svgs.soak = soakChart;
  const names = (prefix) => Object.fromEntries(Object.keys(svgs).map((k) => [k, `${prefix}.${k}.svg`]));
  for (const prefix of [stamp, 'latest']) {
    writeFileSync(join(outDir, `${prefix}.json`), json);
    writeFileSync(join(outDir, `${prefix}.md`), markdown(report, names(prefix)));
    for (const [k, svg] of Object.entries(svgs)) writeFileSync(join(outDir, `${prefix}.${k}.svg`), svg);
  }
  log(
    `wrote ${join(outDir, stamp)}.{${['json', 'md', ...Object.keys(svgs).map((k) => `${k}.svg`)].join(',')}} and latest.*`,
  );
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
