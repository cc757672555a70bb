#!/usr/bin/env node
// In-process benchmark: @ortline/scorer vs onnxruntime-node's InferenceSession vs a pure-Rust
// `ort` loop (the floor), on the churn model, one run, same libonnxruntime, same feeds.
//
//   node bench/src/inprocess.mjs [--time 1000] [--rounds 3] [--batches 1,32,256,4096] [--out DIR] [--smoke]
//
// Every contender is checked against the parity rows before timing. Rounds are interleaved
// (each round times every contender at every batch size) and the median round is reported.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FeatureSchema, Model } from '@ortline/scorer';
import * as ortNode from 'onnxruntime-node';
import { Bench } from 'tinybench';
import { activeModelDir, floorBinary, machineInfo, median, repoRoot, versions } from './common.mjs';

const { values: args } = parseArgs({
  options: {
    time: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    batches: { type: 'string', default: '1,32,256,4096' },
    out: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
const timeMs = args.smoke ? 50 : Number(args.time);
const rounds = args.smoke ? 1 : Number(args.rounds);
const batches = args.batches.split(',').map(Number);
// A smoke run never overwrites the committed results unless told where to write.
const outDir =
  args.out ?? (args.smoke ? join(tmpdir(), 'ortline-bench-smoke') : join(repoRoot, 'bench/results/inprocess'));
if (!(timeMs > 0) || !(rounds > 0) || batches.some((b) => !Number.isInteger(b) || b < 1)) {
  console.error('usage: inprocess.mjs [--time MS>0] [--rounds N>0] [--batches 1,32,...] [--out DIR] [--smoke]');
  process.exit(2);
}

const dir = activeModelDir('churn');
const modelPath = join(dir, 'model.onnx');
const card = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
const parity = JSON.parse(readFileSync(join(dir, 'parity.json'), 'utf8'));
const { name: outName, index: outIndex } = card.output;
const width = 2; // probabilities [N, 2]

// Same threads for everyone: one intra-op and one inter-op thread per run.
const model = await Model.load(modelPath, { intraOpThreads: 1, interOpThreads: 1 });
const schema = FeatureSchema.fromModel(model, card, { passthrough: ['customerID'] });
const session = await ortNode.InferenceSession.create(modelPath, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionProviders: ['cpu'],
});

function recordsOf(n) {
  return Array.from({ length: n }, (_, i) => parity.rows[i % parity.rows.length].features);
}
function expectedOf(n) {
  return Array.from({ length: n }, (_, i) => parity.rows[i % parity.rows.length].probability);
}

// One payload per batch size, built once: the contenders are timed on inference, not set-up.
const payloads = new Map();
const maxBatch = Math.max(...batches);
const { feeds: maxFeeds } = schema.columnize(recordsOf(maxBatch));
for (const n of batches) {
  const { feeds } = schema.columnize(recordsOf(n));
  const tensors = {};
  for (const input of model.inputs) {
    const col = feeds[input.name];
    tensors[input.name] = new ortNode.Tensor(Array.isArray(col) ? 'string' : 'float32', col, [n, 1]);
  }
  payloads.set(n, { feeds, tensors, expected: expectedOf(n) });
}

function check(label, n, probs, stride, index) {
  const expected = expectedOf(n);
  let worst = 0;
  for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(probs[i * stride + index] - expected[i]));
  if (!(worst <= parity.tolerance))
    throw new Error(`${label} at batch ${n}: max |diff| ${worst} > ${parity.tolerance}`);
  return worst;
}

// The floor: a Rust binary over the same model and the same columns (largest batch, sliced).
const scratch = mkdtempSync(join(tmpdir(), 'ortline-bench-'));
const columnsFile = join(scratch, 'columns.txt');
writeFileSync(
  columnsFile,
  [
    String(maxBatch),
    ...model.inputs.flatMap((i) => [
      `${i.name}\t${i.type}`,
      ...Array.from(maxFeeds[i.name], (v) => (Number.isNaN(v) ? 'NaN' : String(v))),
    ]),
    '',
  ].join('\n'),
);
const floorBin = floorBinary();
function runFloor() {
  const r = spawnSync(floorBin, [modelPath, columnsFile, String(timeMs), batches.join(','), outName], {
    encoding: 'utf8',
    env: { ...process.env, ORT_DYLIB_PATH: ortLibraryPath() },
  });
  if (r.status !== 0) throw new Error(`floor failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}
function ortLibraryPath() {
  return (
    process.env.ORT_DYLIB_PATH ??
    join(repoRoot, 'bench/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1')
  );
}

// Correctness before timing.
const agreement = {};
for (const n of batches) {
  const { feeds, tensors } = payloads.get(n);
  const a = await model.run(feeds, n);
  const b = model.runSync(feeds, n);
  const c = await session.run(tensors);
  agreement[n] = {
    'ortline run': check('ortline run', n, a[outName].data, width, outIndex),
    'ortline runSync': check('ortline runSync', n, b[outName].data, width, outIndex),
    'onnxruntime-node': check('onnxruntime-node', n, c[outName].data, width, outIndex),
  };
}
const floorCheck = runFloor();
for (const n of batches) {
  const got = floorCheck.batches.find((b) => b.rows === n);
  agreement[n]['rust ort'] = check('rust ort', Math.min(n, got.first.length / width), got.first, width, outIndex);
}

// Timed rounds, interleaved.
const contenders = ['ortline run', 'ortline runSync', 'onnxruntime-node', 'rust ort'];
const samples = {}; // samples[contender][batch] = [{mean, p50, p99}]
for (const c of contenders) samples[c] = Object.fromEntries(batches.map((n) => [n, []]));
for (let round = 0; round < rounds; round++) {
  for (const n of batches) {
    const { feeds, tensors } = payloads.get(n);
    const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs), iterations: 5, throws: true });
    bench
      .add('ortline run', async () => {
        await model.run(feeds, n);
      })
      .add('ortline runSync', () => {
        model.runSync(feeds, n);
      })
      .add('onnxruntime-node', async () => {
        await session.run(tensors);
      });
    await bench.run();
    for (const task of bench.tasks) {
      const { latency } = task.result;
      samples[task.name][n].push({ mean: latency.mean, p50: latency.p50, p99: latency.p99 });
    }
  }
  for (const b of runFloor().batches)
    samples['rust ort'][b.rows].push({ mean: b.mean_ms, p50: b.p50_ms, p99: b.p99_ms });
}
rmSync(scratch, { recursive: true, force: true });

const results = [];
for (const n of batches) {
  for (const c of contenders) {
    const s = samples[c][n];
    const mean = median(s.map((x) => x.mean));
    results.push({
      contender: c,
      batch: n,
      rows_per_s: n / (mean / 1000),
      calls_per_s: 1000 / mean,
      latency_ms: { mean, p50: median(s.map((x) => x.p50)), p99: median(s.map((x) => x.p99)) },
      max_abs_diff_vs_sklearn: agreement[n][c],
    });
  }
}
const find = (c, n) => results.find((r) => r.contender === c && r.batch === n);
const ratios = batches.map((n) => ({
  batch: n,
  ortline_vs_onnxruntime_node: find('ortline run', n).rows_per_s / find('onnxruntime-node', n).rows_per_s,
  ortline_sync_vs_onnxruntime_node: find('ortline runSync', n).rows_per_s / find('onnxruntime-node', n).rows_per_s,
  ortline_vs_rust_floor: find('ortline run', n).rows_per_s / find('rust ort', n).rows_per_s,
}));

const command = `node bench/src/inprocess.mjs --time ${timeMs} --rounds ${rounds} --batches ${batches.join(',')}${args.smoke ? ' --smoke' : ''}`;
const report = {
  kind: 'inprocess',
  created: new Date().toISOString(),
  command,
  smoke: args.smoke,
  machine: machineInfo(),
  versions: versions(),
  model: { path: modelPath.slice(repoRoot.length), version: card.version },
  settings: {
    time_ms_per_task_per_round: timeMs,
    rounds,
    intra_op_threads: 1,
    inter_op_threads: 1,
    statistic: 'median over rounds of the per-round mean',
  },
  results,
  ratios,
};

const md = [
  `In-process, churn model v${card.version}, one thread per run, median of ${rounds} interleaved round(s) of ${timeMs} ms per task.`,
  `Command: \`${command}\` (${report.machine.cpu}, ${report.machine.cores} cores, ${report.created.slice(0, 10)}).`,
  '',
  '| batch | contender | rows/s | calls/s | mean ms | p50 ms | p99 ms |',
  '|---:|---|---:|---:|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.batch} | ${r.contender} | ${fmt(r.rows_per_s)} | ${fmt(r.calls_per_s)} | ${r.latency_ms.mean.toFixed(4)} | ${r.latency_ms.p50.toFixed(4)} | ${r.latency_ms.p99.toFixed(4)} |`,
  ),
  '',
  '| batch | ortline run / onnxruntime-node | ortline runSync / onnxruntime-node | ortline run / Rust floor |',
  '|---:|---:|---:|---:|',
  ...ratios.map(
    (r) =>
      `| ${r.batch} | ${r.ortline_vs_onnxruntime_node.toFixed(2)}x | ${r.ortline_sync_vs_onnxruntime_node.toFixed(2)}x | ${r.ortline_vs_rust_floor.toFixed(2)}x |`,
  ),
  '',
].join('\n');

mkdirSync(outDir, { recursive: true });
const stamp = report.created.replace(/[:.]/g, '-');
if (!args.smoke) {
  writeFileSync(join(outDir, `${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, `${stamp}.md`), md);
}
writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(outDir, 'latest.md'), md);
console.log(md);
model.close();
await session.release();

function fmt(x) {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
}
