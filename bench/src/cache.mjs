#!/usr/bin/env node
// The gateway's cache tiers: what an L1 hit, an L2 hit and a miss cost, and gateway
// throughput at hit ratios 0/50/90/100% with and without Redis.
//
//   node bench/src/cache.mjs [--duration 4] [--rounds 3] [--connections 64] [--ratios 0,0.5,0.9,1]
//                            [--cost-ms 1000] [--out DIR] [--smoke]
//
// Needs: packages/gateway built (pnpm --filter @ortline/gateway run build), redis-server
// (scripts/install-debian-packages.sh; started here on a free port, never as a service) and wrk (Debian
// package). Without redis-server the Redis rows are skipped and say so.
//
// Part 1, cost per request, in process: one request at a time (await each), straight into a model
// version's scorer stage (no HTTP), so the figure is the stage plus, for misses, the Batcher and
// the native run. Contenders: L1 hit; L2 hit (L1 off); miss with L1 only; miss with L1 + L2 (the
// MGET that finds nothing, then inference, then the store); no cache at all. Also the key alone:
// validate + columnize a row, and its SHA-256. Rounds interleave the contenders; median round.
//
// Part 2, throughput over HTTP: `ortline serve` child processes, wrk with a Lua script that sends,
// per request, with probability `ratio` one of 1,000 hot records (warmed before each run) and
// otherwise a record never sent before. Configurations: no cache (the issue-4 baseline), L1 only,
// L1 + L2 (Redis), L2 only (L1 off: every hit is an MGET). The hit ratio actually seen is read
// from the gateway's metrics. Rounds interleave every (configuration, ratio); median round.
// Nothing is asserted: figures are reported.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { activeModelDir, machineInfo, median, repoRoot } from './common.mjs';
import { metricSum } from './probe.mjs';
import { redisAvailable, startRedis } from './redis.mjs';
import { startServe } from './serve.mjs';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    ratios: { type: 'string', default: '0,0.5,0.9,1' },
    'cost-ms': { type: 'string', default: '1000' },
    out: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
const duration = args.smoke ? 1 : Number(args.duration);
const rounds = args.smoke ? 1 : Number(args.rounds);
const connections = Number(args.connections);
const ratios = args.ratios.split(',').map(Number);
const costMs = args.smoke ? 100 : Number(args['cost-ms']);
const outDir =
  args.out ?? (args.smoke ? join(tmpdir(), 'ortline-bench-cache-smoke') : join(repoRoot, 'bench/results/cache'));
if (
  !(duration > 0) ||
  !(rounds > 0) ||
  !(connections > 0) ||
  ratios.some((r) => !(r >= 0 && r <= 1)) ||
  !(costMs > 0)
) {
  console.error(
    'usage: cache.mjs [--duration S>0] [--rounds N>0] [--connections N>0] [--ratios 0,0.5,...] [--cost-ms MS>0] [--out DIR] [--smoke]',
  );
  process.exit(2);
}

const gatewayDist = join(repoRoot, 'packages/gateway/dist');
const { startGateway } = await import(join(gatewayDist, 'index.js'));
const { RowKeys } = await import(join(gatewayDist, 'cache/key.js'));
const { FeatureSchema } = await import('@ortline/scorer');

const have = (cmd, flag = '--version') => spawnSync(cmd, [flag]).error === undefined;
if (!have('wrk')) {
  console.error('cache.mjs: wrk is not installed (Debian package "wrk")');
  process.exit(2);
}
const haveRedis = redisAvailable();

const dir = activeModelDir('churn');
const parity = JSON.parse(readFileSync(join(dir, 'parity.json'), 'utf8'));
const card = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
const baseRecord = parity.rows[0].features;
const HOT = 1000;
/** Hot records: tenure 0..999 with MonthlyCharges 10.25; per-run fresh records use other charges. */
const hotRecord = (i) => ({ ...baseRecord, tenure: i, MonthlyCharges: 10.25 });
let uniqueCounter = 0;
const uniqueRecord = () => ({
  ...baseRecord,
  tenure: 1 + (uniqueCounter++ % 4_000_000),
  MonthlyCharges: 7.75 + Math.floor(uniqueCounter / 4_000_000) * 0.5,
});

const redis = haveRedis ? await startRedis() : undefined;
const children = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  redis?.proc.kill('SIGKILL');
});

// ---------------------------------------------------------------------------------------------
// Part 1: cost per request, in process.
async function costPerRequest() {
  const quiet = { host: '127.0.0.1', port: 0, log: { level: 'silent' }, metrics: { enabled: false } };
  const l1Only = await startGateway({ overrides: { ...quiet, cache: { l1: { ttlMs: 0 } } } });
  const none = await startGateway({ overrides: { ...quiet, cache: { l1: { enabled: false } } } });
  const l1l2 = redis
    ? await startGateway({
        overrides: { ...quiet, redisUrl: redis.url, cache: { l1: { ttlMs: 0 }, l2: { timeoutMs: 50 } } },
      })
    : undefined;
  const l2Only = redis
    ? await startGateway({
        overrides: { ...quiet, redisUrl: redis.url, cache: { l1: { enabled: false }, l2: { timeoutMs: 50 } } },
      })
    : undefined;
  const scorer = (g) => g.registry.resolve('churn').scorer;

  // Sanity before timing: every path gives the training pipeline's answer for a parity row.
  const row = parity.rows[3];
  for (const g of [l1Only, none, l1l2, l2Only].filter(Boolean)) {
    for (let i = 0; i < 2; i++) {
      const { scores } = await scorer(g).score([row.features]);
      if (Math.abs(scores[0] - row.probability) > parity.tolerance)
        throw new Error(`wrong score before timing: ${scores[0]} vs ${row.probability}`);
    }
  }
  const hit = hotRecord(1);
  await scorer(l1Only).score([hit]);
  if (l2Only) {
    await scorer(l2Only).score([hit]);
    await new Promise((r) => setTimeout(r, 100)); // the store lands
    if ((await scorer(l2Only).score([hit])).source !== 'l2') throw new Error('L2 hit contender did not hit L2');
  }

  const contenders = [
    { name: 'L1 hit', run: () => scorer(l1Only).score([hit]), expect: 'l1' },
    ...(l2Only ? [{ name: 'L2 hit (L1 off)', run: () => scorer(l2Only).score([hit]), expect: 'l2' }] : []),
    { name: 'miss, L1 only', run: () => scorer(l1Only).score([uniqueRecord()]), expect: 'miss' },
    ...(l1l2 ? [{ name: 'miss, L1 + L2', run: () => scorer(l1l2).score([uniqueRecord()]), expect: 'miss' }] : []),
    { name: 'no cache', run: () => scorer(none).score([uniqueRecord()]), expect: 'off' },
  ];
  const perRound = new Map(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) {
      for (let i = 0; i < 200; i++) await c.run(); // warm this path
      let n = 0;
      const t0 = performance.now();
      const until = t0 + costMs;
      while (performance.now() < until) {
        const { source } = await c.run();
        if (source !== c.expect) throw new Error(`${c.name}: answered from ${source}, expected ${c.expect}`);
        n++;
      }
      perRound.get(c.name).push(((performance.now() - t0) * 1000) / n);
    }
  }
  const results = contenders.map((c) => ({
    contender: c.name,
    us_per_request: round1(median(perRound.get(c.name))),
    rounds_us: perRound.get(c.name).map(round1),
  }));

  // The key alone: validate + columnize one row (the stage does it for every request), then hash.
  const schema = FeatureSchema.fromModel(l1Only.registry.resolve('churn').model, card, {
    passthrough: ['customer_id', 'customerID'],
  });
  const keys = new RowKeys(schema, 'ortline:', 'churn', '1');
  const cols = schema.allocate(1);
  const rows = parity.rows.map((x) => x.features);
  const timeLoop = (fn) => {
    const samples = [];
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < 20_000; i++) fn(i);
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < costMs / 2) {
        for (let i = 0; i < 1000; i++) fn(n + i);
        n += 1000;
      }
      samples.push(((performance.now() - t0) * 1e6) / n);
    }
    return Math.round(median(samples));
  };
  const validateNs = timeLoop((i) => schema.write([rows[i % rows.length]], cols, 0, []));
  const keyNs = timeLoop((i) => {
    schema.write([rows[i % rows.length]], cols, 0, []);
    return keys.key(cols, 0);
  });
  for (const g of [l1Only, none, l1l2, l2Only].filter(Boolean)) await g.close();
  const expensive = redis ? await expensiveModel(quiet) : undefined;
  return {
    per_request: results,
    key_ns_per_row: {
      validate_columnize: validateNs,
      validate_columnize_sha256: keyNs,
      sha256_and_encoding: keyNs - validateNs,
    },
    expensive_model: expensive,
  };
}

/**
 * When L2 pays: the scorer's `slow.onnx` test fixture (y = x, after floor(x) iterations of a
 * 128x128 MatMul + Tanh), served as a model whose one run costs about a millisecond: computing it
 * vs an L2 hit, one request at a time.
 */
async function expensiveModel(quiet) {
  const models = mkdtempSync(join(tmpdir(), 'ortline-bench-slow-'));
  mkdirSync(join(models, 'slow', '1'), { recursive: true });
  symlinkSync(join(repoRoot, 'packages/scorer/test/fixtures/slow.onnx'), join(models, 'slow', '1', 'model.onnx'));
  writeFileSync(
    join(models, 'slow', '1', 'model.json'),
    JSON.stringify({ features: [{ name: 'x', kind: 'numeric', dtype: 'float32', required: true }] }),
  );
  const iterations = 40;
  const compute = await startGateway({ overrides: { ...quiet, modelsDir: models, cache: { l1: { enabled: false } } } });
  const l2 = await startGateway({
    overrides: {
      ...quiet,
      modelsDir: models,
      redisUrl: redis.url,
      cache: { l1: { enabled: false }, l2: { timeoutMs: 50 } },
    },
  });
  const sc = (g) => g.registry.resolve('slow').scorer;
  const hot = { x: iterations };
  await sc(l2).score([hot]);
  await new Promise((r) => setTimeout(r, 100));
  if ((await sc(l2).score([hot])).source !== 'l2') throw new Error('expensive model: no L2 hit');
  const time = async (fn) => {
    const samples = [];
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < 20; i++) await fn();
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < costMs) {
        await fn();
        n++;
      }
      samples.push(((performance.now() - t0) * 1000) / n);
    }
    return round1(median(samples));
  };
  const computeUs = await time(() => sc(compute).score([hot]));
  const l2Us = await time(() => sc(l2).score([hot]));
  await compute.close();
  await l2.close();
  rmSync(models, { recursive: true, force: true });
  return {
    model: `packages/scorer/test/fixtures/slow.onnx, x = ${iterations} (${iterations} iterations of a 128x128 MatMul + Tanh)`,
    compute_us: computeUs,
    l2_hit_us: l2Us,
  };
}

// ---------------------------------------------------------------------------------------------
// Part 2: throughput over HTTP at hit ratios.
const template = JSON.stringify({ ...baseRecord, tenure: '@T@', MonthlyCharges: '@C@' });
const [p0, rest] = template.split('"@T@"');
const [p1, p2] = rest.split('"@C@"');
const luaDir = mkdtempSync(join(tmpdir(), 'ortline-bench-cache-'));

/** wrk script: hot record with probability `ratio`, else a new one (unique per thread and run). */
function luaScript(ratio, run) {
  const hot = Array.from({ length: HOT }, (_, i) => `[==[${JSON.stringify(hotRecord(i))}]==]`).join(',\n');
  // Per run its own MonthlyCharges (exact in float32): records never repeat across runs.
  const charges = 30 + run * 0.5;
  return `
local hot = { ${hot} }
local p0, p1, p2 = [==[${p0}]==], [==[${p1}]==], [==[${p2}]==]
local ratio = ${ratio}
local charges = "${charges}"
local counter = 0
local headers = { ["Content-Type"] = "application/json" }
local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end
function request()
  local body
  if ratio >= 1 or (ratio > 0 and math.random() < ratio) then
    body = hot[math.random(${HOT})]
  else
    counter = counter + 1
    body = p0 .. (tid * 4194304 + counter) .. p1 .. charges .. p2
  end
  return wrk.format("POST", "/v1/models/churn/predict", headers, body)
end
`;
}

function ms(s) {
  const m = /([\d.]+)(us|ms|s)/.exec(s ?? '');
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

function wrk(url, script, seconds) {
  const file = join(luaDir, 'mix.lua');
  writeFileSync(file, script);
  const r = spawnSync(
    'wrk',
    [
      '-t2',
      `-c${connections}`,
      `-d${seconds}s`,
      '--latency',
      '--timeout',
      '10s',
      '-s',
      file,
      `${url}/v1/models/churn/predict`,
    ],
    { encoding: 'utf8' },
  );
  const out = r.stdout;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50_ms: ms(/\s50%\s+(\S+)/.exec(out)?.[1]),
    p99_ms: ms(/\s99%\s+(\S+)/.exec(out)?.[1]),
    errors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

async function counters(url) {
  const t = await (await fetch(`${url}/metrics`)).text();
  return {
    l1Hits: metricSum(t, 'ortline_cache_hits_total', { tier: 'l1' }),
    l2Hits: metricSum(t, 'ortline_cache_hits_total', { tier: 'l2' }),
    scored: metricSum(t, 'ortline_rows_scored_total'),
    batchSum: metricSum(t, 'ortline_batch_rows_sum'),
    batchCount: metricSum(t, 'ortline_batch_rows_count'),
    requests: metricSum(t, 'ortline_request_duration_seconds_count', { route: 'v1_predict', status: '200' }),
    l2Failures: metricSum(t, 'ortline_cache_errors_total', { op: 'lookup' }),
    breakerOpens: metricSum(t, 'ortline_cache_breaker_transitions_total', { to: 'open' }),
  };
}

async function warmHot(url) {
  const r = await fetch(`${url}/v1/models/churn/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances: Array.from({ length: HOT }, (_, i) => hotRecord(i)) }),
  });
  if (r.status !== 200) throw new Error(`warming the hot set failed: ${r.status}`);
}

async function throughput() {
  const common = ['--cache-l1-ttl-ms', '0'];
  const configs = [
    {
      name: 'no cache',
      redis: false,
      ratios: [0],
      gw: await startServe(['--no-cache-l1-enabled', ...common], { env: { REDIS_URL: '' }, children }),
    },
    { name: 'L1 only', redis: false, ratios, gw: await startServe(common, { env: { REDIS_URL: '' }, children }) },
  ];
  if (redis) {
    configs.push({
      name: 'L1 + L2 (Redis)',
      redis: true,
      ratios,
      gw: await startServe(common, { env: { REDIS_URL: redis.url }, children }),
    });
    configs.push({
      name: 'L2 only (Redis, L1 off)',
      redis: true,
      ratios,
      gw: await startServe(['--no-cache-l1-enabled', ...common], { env: { REDIS_URL: redis.url }, children }),
    });
  }
  // Sanity before timing: every configuration answers a parity row within tolerance.
  const row = parity.rows[7];
  for (const c of configs) {
    const j = await (
      await fetch(`${c.gw.url}/v1/models/churn/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(row.features),
      })
    ).json();
    if (Math.abs(j.churn_probability - row.probability) > parity.tolerance)
      throw new Error(`${c.name}: wrong answer before timing`);
  }
  const points = configs.flatMap((c) => c.ratios.map((ratio) => ({ config: c, ratio, runs: [] })));
  // Warm-up run per point (JIT, connections), not reported.
  let run = 0;
  for (const p of points) {
    await warmHot(p.config.gw.url);
    wrk(p.config.gw.url, luaScript(p.ratio, run++), 1);
  }
  for (let r = 0; r < rounds; r++) {
    for (const p of points) {
      const url = p.config.gw.url;
      await warmHot(url);
      if (p.config.redis) await new Promise((res) => setTimeout(res, 100)); // the hot set's stores land
      const before = await counters(url);
      const res = wrk(url, luaScript(p.ratio, run++), duration);
      const after = await counters(url);
      const requests = after.requests - before.requests;
      const hits = after.l1Hits - before.l1Hits + (after.l2Hits - before.l2Hits);
      const batches = after.batchCount - before.batchCount;
      res.hit_ratio_seen = requests > 0 ? Number((hits / requests).toFixed(3)) : null;
      res.l2_hits = after.l2Hits - before.l2Hits;
      res.mean_batch_rows = batches > 0 ? Number(((after.batchSum - before.batchSum) / batches).toFixed(1)) : null;
      // Lookups that failed or ran out of budget, and times the breaker opened, during the run.
      res.l2_lookup_failures = after.l2Failures - before.l2Failures;
      res.breaker_opened = after.breakerOpens - before.breakerOpens;
      p.runs.push(res);
      console.error(
        `round ${r + 1} ${p.config.name} ratio ${p.ratio}: ${Math.round(res.rps)}/s p50 ${res.p50_ms} ms p99 ${res.p99_ms} ms hits seen ${res.hit_ratio_seen} errors ${res.errors + res.non2xx} L2 lookup failures ${res.l2_lookup_failures} breaker opened ${res.breaker_opened}`,
      );
    }
  }
  for (const c of configs) c.gw.proc.kill('SIGTERM');
  return points.map((p) => {
    const m = median(p.runs.map((x) => x.rps));
    const mid = p.runs.find((x) => x.rps === m) ?? p.runs[0];
    return {
      config: p.config.name,
      hit_ratio: p.ratio,
      ...mid,
      rps: Math.round(mid.rps),
      rounds_rps: p.runs.map((x) => Math.round(x.rps)),
    };
  });
}

const round1 = (x) => Math.round(x * 10) / 10;

try {
  const started = performance.now();
  const cost = await costPerRequest();
  console.error(
    'cost per request (µs):',
    cost.per_request.map((c) => `${c.contender} ${c.us_per_request}`).join(' | '),
    '| key ns/row:',
    JSON.stringify(cost.key_ns_per_row),
  );
  const http = await throughput();
  const report = {
    created: new Date().toISOString(),
    command: `node bench/src/cache.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { ...machineInfo(), node: process.version },
    settings: {
      duration_s: duration,
      rounds,
      connections,
      ratios,
      cost_ms: costMs,
      hot_records: HOT,
      load_generator: 'wrk -t2',
      redis: redis
        ? 'redis-server on loopback, no persistence, maxmemory 512mb allkeys-lru'
        : 'not installed: Redis rows skipped',
    },
    cost,
    http,
    seconds: Math.round((performance.now() - started) / 1000),
  };
  mkdirSync(outDir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const stamp = report.created.replace(/[:.]/g, '-');
  writeFileSync(join(outDir, `${stamp}.json`), json);
  writeFileSync(join(outDir, 'latest.json'), json);
  const md = markdown(report);
  writeFileSync(join(outDir, `${stamp}.md`), md);
  writeFileSync(join(outDir, 'latest.md'), md);
  console.log(md);
} finally {
  rmSync(luaDir, { recursive: true, force: true });
  redis?.proc.kill('SIGKILL');
}
process.exit(0);

function markdown(r) {
  const lines = [
    `# Cache tiers: cost and throughput`,
    '',
    `${r.created}, ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}. Command: \`${r.command}\`.`,
    `Median of ${r.settings.rounds} interleaved rounds. Redis: ${r.settings.redis}.`,
    '',
    '## Cost per request (in process, one request at a time, churn model, one record)',
    '',
    '| Path | µs per request | rounds |',
    '| --- | ---: | --- |',
    ...r.cost.per_request.map((c) => `| ${c.contender} | ${c.us_per_request} | ${c.rounds_us.join(', ')} |`),
    '',
    `Key per row: validate + columnize ${r.cost.key_ns_per_row.validate_columnize} ns, plus encoding + SHA-256 ${r.cost.key_ns_per_row.sha256_and_encoding} ns (together ${r.cost.key_ns_per_row.validate_columnize_sha256} ns).`,
    '',
    ...(r.cost.expensive_model
      ? [
          `An expensive model (${r.cost.expensive_model.model}): computing it ${r.cost.expensive_model.compute_us} µs per request, an L2 hit ${r.cost.expensive_model.l2_hit_us} µs.`,
          '',
        ]
      : []),
    `## Throughput over HTTP (wrk, ${r.settings.connections} connections, ${r.settings.duration_s} s per run, single-record requests)`,
    '',
    '| Configuration | Hit ratio (asked / seen) | req/s | p50 ms | p99 ms | errors | mean batch rows | L2 lookups failed / breaker opened | rounds req/s |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |',
    ...r.http.map(
      (h) =>
        `| ${h.config} | ${h.hit_ratio} / ${h.hit_ratio_seen} | ${h.rps} | ${h.p50_ms} | ${h.p99_ms} | ${h.errors + h.non2xx} | ${h.mean_batch_rows ?? '-'} | ${h.config.includes('Redis') ? `${h.l2_lookup_failures} / ${h.breaker_opened}` : '-'} | ${h.rounds_rps.join(', ')} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
