#!/usr/bin/env node
// Reload soak: does memory stay flat while versions come and go? The gateway (in this process,
// so that a forced GC makes heap figures comparable) serves churn v1 under light load while the
// admin API loads version 2 (LightGBM: gate, parity rows, warm-up), canaries it, stops the canary
// and unloads it, over and over. Every `--every` cycles: two forced GCs, then RSS and heap.
//
//   node --expose-gc bench/src/reload.mjs [--cycles 1000] [--every 100] [--rate 100] [--out DIR] [--smoke]
//
// Reported: RSS and heap used at the first sample and at the end, and the least-squares slope of
// each per 100 cycles over the samples after the first (the first cycles warm up allocators and
// caches). Target: flat, under 1 MiB per 100 cycles. Any non-200 answer fails the run.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startGateway } from '@ortline/gateway';
import { churnParity, machineInfo, repoRoot, writeRun } from './common.mjs';
import { slope } from './stats.mjs';

const { values: args } = parseArgs({
  options: {
    cycles: { type: 'string', default: '1000' },
    every: { type: 'string', default: '100' },
    rate: { type: 'string', default: '100' },
    out: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
const cycles = args.smoke ? 20 : Number(args.cycles);
const every = args.smoke ? 5 : Number(args.every);
const rate = Number(args.rate);
if (!(cycles > 0) || !(every > 0) || cycles % every !== 0 || !(rate > 0)) {
  console.error('usage: reload.mjs [--cycles N] [--every K (divides N)] [--rate REQ/S] [--out DIR] [--smoke]');
  process.exit(2);
}
if (typeof globalThis.gc !== 'function') {
  console.error('reload.mjs: run with node --expose-gc, so that heap samples are taken after a full GC');
  process.exit(2);
}
const outDir =
  args.out ?? (args.smoke ? join(tmpdir(), 'ortline-bench-smoke') : join(repoRoot, 'bench/results/reload'));
const log = (...a) => console.error('[reload]', ...a);
const MiB = 1024 * 1024;
const TOKEN = 'reload-soak';

const root = mkdtempSync(join(tmpdir(), 'ortline-reload-'));
for (const v of ['1', '2']) {
  mkdirSync(join(root, 'churn', v), { recursive: true });
  for (const f of ['model.onnx', 'model.json', 'parity.json'])
    copyFileSync(join(repoRoot, 'models', 'churn', v, f), join(root, 'churn', v, f));
}
writeFileSync(join(root, 'churn', 'serving.json'), '{"active": "1"}');
const gateway = await startGateway({
  overrides: { host: '127.0.0.1', port: 0, modelsDir: root, admin: { token: TOKEN }, log: { level: 'silent' } },
});
const url = gateway.url;
const { parity } = churnParity();

async function admin(method, path, body) {
  const r = await fetch(`${url}/admin/v1/models/churn${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${text}`);
}

// Light load: `rate` single-record predictions a second, at most 4 in flight.
let answered = 0;
let refused = 0;
let inFlight = 0;
let n = 0;
const load = setInterval(() => {
  if (inFlight >= 4) return;
  inFlight++;
  const row = parity.rows[n++ % parity.rows.length];
  fetch(`${url}/v1/models/churn/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer_id: `r-${n}`, ...row.features }),
  })
    .then(async (r) => {
      await r.arrayBuffer();
      if (r.status === 200) answered++;
      else refused++;
    })
    .catch(() => refused++)
    .finally(() => inFlight--);
}, 1000 / rate);

function sample(cycle) {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { cycle, rss: m.rss, heap_used: m.heapUsed, external: m.external };
}

const samples = [];
const started = performance.now();
let failure;
try {
  samples.push(sample(0));
  for (let c = 1; c <= cycles; c++) {
    await admin('POST', '/versions/2/load');
    await admin('PUT', '/routing', { canary: { version: '2', weight: 0.5 } });
    await admin('PUT', '/routing', { canary: null });
    await admin('DELETE', '/versions/2');
    if (c % every === 0) {
      samples.push(sample(c));
      const s = samples.at(-1);
      log(`cycle ${c}: rss ${(s.rss / MiB).toFixed(1)} MiB, heap ${(s.heap_used / MiB).toFixed(1)} MiB`);
    }
  }
} catch (err) {
  failure = String(err?.stack ?? err);
} finally {
  clearInterval(load);
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  await gateway.close();
  rmSync(root, { recursive: true, force: true });
}
const seconds = (performance.now() - started) / 1000;
const fit = samples.slice(1);
const per100 = (key) => (fit.length < 2 ? null : (slope(fit.map((s) => ({ x: s.cycle, y: s[key] }))) * 100) / MiB);
const result = {
  created: new Date().toISOString(),
  command: `node --expose-gc bench/src/reload.mjs --cycles ${cycles} --every ${every} --rate ${rate}${args.smoke ? ' --smoke' : ''}`,
  machine: machineInfo(),
  cycle: 'load v2 (gate: 300 parity rows, warm-up), canary 50 %, canary off, unload (drain, close)',
  cycles,
  seconds,
  cycles_per_second: cycles / seconds,
  load: { rate_per_second: rate, answered, non_200: refused },
  start: samples[0] && { rss_mib: samples[0].rss / MiB, heap_used_mib: samples[0].heap_used / MiB },
  end: samples.at(-1) && { rss_mib: samples.at(-1).rss / MiB, heap_used_mib: samples.at(-1).heap_used / MiB },
  slope_mib_per_100_cycles: { rss: per100('rss'), heap_used: per100('heap_used'), external: per100('external') },
  target_mib_per_100_cycles: 1,
  samples,
  ...(failure ? { failure } : {}),
};
const f = (x) => (x === null || x === undefined ? 'n/a' : x.toFixed(2));
const md = [
  '## Reload soak',
  '',
  `${cycles} cycles (${result.cycle}) in ${seconds.toFixed(1)} s, ${answered} predictions answered meanwhile (${refused} not 200).`,
  `Command: \`${result.command}\` (${result.machine.cpu}, ${result.machine.cores} cores, ${result.created.slice(0, 10)}).`,
  '',
  '| | at the first sample | at the end | slope, MiB per 100 cycles (target < 1) |',
  '|---|---:|---:|---:|',
  `| RSS | ${f(result.start?.rss_mib)} MiB | ${f(result.end?.rss_mib)} MiB | ${f(result.slope_mib_per_100_cycles.rss)} |`,
  `| Heap used (after GC) | ${f(result.start?.heap_used_mib)} MiB | ${f(result.end?.heap_used_mib)} MiB | ${f(result.slope_mib_per_100_cycles.heap_used)} |`,
  '',
].join('\n');
writeRun(outDir, result, { md });
process.stdout.write(md);
if (failure || refused > 0) {
  log(failure ?? `${refused} predictions were not answered 200`);
  process.exit(1);
}
