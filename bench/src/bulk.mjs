#!/usr/bin/env node
// Bulk scoring, CSV to CSV and Parquet to Parquet: `ortline score` against the job a pandas user
// would write instead (bench/peers/pandas/score.py: pandas or pyarrow in chunks, checks from the
// model card, ONNX Runtime), on the same generated file, one after the other, each pinned to one
// core (taskset -c 0). The file repeats the training data's rows with unique ids, one row in
// 10,000 broken (an unknown contract) so that both write rejects; its Parquet copy is written by
// pandas (typed columns, Snappy, one row group per 100,000 rows). Both outputs must agree: the
// same ids in the same order, the same probabilities as float32, the same rejected rows.
//
//   node bench/src/bulk.mjs [--rows 1000000] [--runs 3] [--formats csv,parquet] [--out DIR] [--smoke]
//
// Reported per format and system: the median of the runs' rows/s (wall time of the whole command,
// start-up included), CPU seconds, and peak RSS (the kernel's accounting); and ortline's rows/s
// over the peer's.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { activeModelDir, machineInfo, median, repoRoot, writeRun } from './common.mjs';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    out: { type: 'string' },
    formats: { type: 'string', default: 'csv,parquet' },
    smoke: { type: 'boolean', default: false },
  },
});
const formats = args.formats.split(',');
const rows = args.smoke ? 20_000 : Number(args.rows);
const runs = args.smoke ? 1 : Number(args.runs);
if (
  !(Number.isInteger(rows) && rows > 0) ||
  !(Number.isInteger(runs) && runs > 0) ||
  formats.length === 0 ||
  formats.some((f) => f !== 'csv' && f !== 'parquet')
) {
  console.error('usage: bulk.mjs [--rows N>0] [--runs N>0] [--formats csv,parquet] [--out DIR] [--smoke]');
  process.exit(2);
}
const python = join(repoRoot, 'models/training/.venv/bin/python');
if (!existsSync(python)) {
  console.error(`bulk.mjs: the peer needs pandas and onnxruntime from ${python}: run bash scripts/setup-dev.sh`);
  process.exit(2);
}
const pin = existsSync('/usr/bin/taskset') ? ['/usr/bin/taskset', '-c', '0'] : [];
const outDir = args.out ?? join(repoRoot, 'bench/results/bulk');
const log = (...a) => console.error('[bulk]', ...a);
const modelDir = activeModelDir('churn');
const scratch = mkdtempSync(join(tmpdir(), 'ortline-bench-bulk-'));

try {
  const csvInput = join(scratch, 'customers.csv');
  const bad = generate(csvInput, rows);
  log(`${rows} rows (${bad} broken) in ${csvInput}`);
  const byFormat = {};
  for (const format of formats) {
    const input = format === 'csv' ? csvInput : toParquet(csvInput, join(scratch, 'customers.parquet'));
    byFormat[format] = await compareSystems(format, input, bad);
  }
  const result = {
    created: new Date().toISOString(),
    machine: machineInfo(),
    command: `node bench/src/bulk.mjs --rows ${rows} --runs ${runs} --formats ${formats.join(',')}`,
    rows,
    broken_rows: bad,
    pinned_to_one_core: pin.length > 0,
    formats: byFormat,
  };
  writeRun(outDir, result, { md: markdown(result) });
  log(`report: ${join(outDir, 'latest.md')}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

/** Both systems on one input, `runs` times each, alternating; their outputs must agree. */
async function compareSystems(format, input, bad) {
  const systems = {
    ortline: (out, rej) => [
      process.execPath,
      join(repoRoot, 'packages/cli/bin/ortline.js'),
      'score',
      '--model',
      modelDir,
      input,
      '-o',
      out,
      '--rejects',
      rej,
    ],
    'pandas + onnxruntime': (out, rej) => [
      python,
      join(repoRoot, 'bench/peers/pandas/score.py'),
      modelDir,
      input,
      out,
      rej,
    ],
  };
  const results = {};
  for (const name of Object.keys(systems)) results[name] = { runs: [] };
  for (let run = 0; run < runs; run++) {
    for (const [name, command] of Object.entries(systems)) {
      const out = join(scratch, `${name.split(' ')[0]}.${format}`);
      const rej = join(scratch, `${name.split(' ')[0]}.rejects.${format}`);
      const m = measure([...pin, ...command(out, rej)]);
      results[name].runs.push(m);
      results[name].output = out;
      results[name].rejects = rej;
      log(
        `${format}, ${name}, run ${run + 1}: ${m.seconds.toFixed(2)} s, ${Math.round(rows / m.seconds)} rows/s, ${m.max_rss_mib} MiB`,
      );
    }
  }
  const peer = results['pandas + onnxruntime'];
  const agreement =
    format === 'csv'
      ? await compare(results.ortline.output, peer.output)
      : compareParquet(results.ortline.output, peer.output);
  agreement.rejects = {
    ortline: countRows(results.ortline.rejects, format),
    peer: countRows(peer.rejects, format),
  };
  if (agreement.rejects.ortline !== bad || agreement.rejects.peer !== bad)
    throw new Error(`${format}: expected ${bad} rejected rows, got ${JSON.stringify(agreement.rejects)}`);
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, r]) => {
      const seconds = median(r.runs.map((x) => x.seconds));
      return [
        name,
        {
          seconds: Number(seconds.toFixed(3)),
          rows_per_s: Math.round(rows / seconds),
          cpu_s: Number(median(r.runs.map((x) => x.cpu_s)).toFixed(2)),
          max_rss_mib: Math.max(...r.runs.map((x) => x.max_rss_mib)),
          runs: r.runs,
        },
      ];
    }),
  );
  const ratio = summary.ortline.rows_per_s / summary['pandas + onnxruntime'].rows_per_s;
  log(
    `${format}: ortline ${summary.ortline.rows_per_s} rows/s, peer ${summary['pandas + onnxruntime'].rows_per_s} rows/s: ${ratio.toFixed(2)}x`,
  );
  return { systems: summary, ortline_over_peer: Number(ratio.toFixed(2)), agreement };
}

/** Runs a Python script from the training venv; returns its stdout. */
function py(script, ...argv) {
  const r = spawnSync(python, ['-c', script, ...argv], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`python failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

/** The CSV as a pandas user's Parquet file: typed columns, Snappy, 100,000 rows per row group. */
function toParquet(csv, parquet) {
  py(
    [
      'import sys, pandas as pd',
      "df = pd.read_csv(sys.argv[1], dtype={'customerID': str}, keep_default_na=False, na_values={'TotalCharges': ['', ' ']})",
      "df.to_parquet(sys.argv[2], compression='snappy', row_group_size=100_000, index=False)",
    ].join('\n'),
    csv,
    parquet,
  );
  return parquet;
}

function countRows(file, format) {
  if (format === 'csv') return readFileSync(file, 'utf8').trim().split('\n').length - 1;
  return Number(py('import sys, pyarrow.parquet as pq\nprint(pq.ParquetFile(sys.argv[1]).metadata.num_rows)', file));
}

/** The two Parquet outputs, read by pyarrow: the same ids and risks in order, probabilities as float32. */
function compareParquet(a, b) {
  const out = py(
    [
      'import sys, json, numpy as np, pyarrow.parquet as pq',
      'x, y = pq.read_table(sys.argv[1]), pq.read_table(sys.argv[2])',
      "ok = x.num_rows == y.num_rows and x.column(0).equals(y.column(0)) and x.column('risk_category').equals(y.column('risk_category'))",
      "d = np.abs(x.column('churn_probability').to_numpy().astype(np.float32) - y.column('churn_probability').to_numpy().astype(np.float32))",
      "print(json.dumps({'same': bool(ok), 'rows': x.num_rows, 'max': float(d.max()) if len(d) else 0.0}))",
    ].join('\n'),
    a,
    b,
  );
  const r = JSON.parse(out);
  if (!r.same) throw new Error('the Parquet outputs differ in ids, order or risk categories');
  if (r.max > 1e-6) throw new Error(`probabilities differ by up to ${r.max}`);
  return { rows: r.rows, max_abs_probability_difference: r.max };
}

/** Writes `n` data rows cycling through the training data, ids made unique; returns the broken count. */
function generate(path, n) {
  const lines = readFileSync(join(repoRoot, 'models/training/data/telco-churn.csv'), 'utf8').trim().split(/\r?\n/);
  const header = lines[0];
  const data = lines.slice(1);
  const contract = header.split(',').indexOf('Contract');
  const parts = [`${header}\n`];
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const cells = data[i % data.length].split(',');
    cells[0] = `${cells[0]}-${i}`;
    if (i % 10_000 === 5_000) {
      cells[contract] = 'Weekly';
      bad++;
    }
    parts.push(`${cells.join(',')}\n`);
  }
  writeFileSync(path, parts.join(''));
  return bad;
}

/** Wall and CPU seconds and peak RSS of one command. */
function measure(argv) {
  // Wall and CPU seconds and peak RSS of a command, from the kernel's accounting of the waited-for
  // child (getrusage RUSAGE_CHILDREN in a fresh Python process; Node has no wait4, and GNU time is
  // not on every machine). Its own output goes to stderr, the figures to stdout as JSON.
  const MEASURE = [
    'import json, resource, subprocess, sys, time',
    't = time.perf_counter()',
    'code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode',
    'wall = time.perf_counter() - t',
    'ru = resource.getrusage(resource.RUSAGE_CHILDREN)',
    'print(json.dumps({"code": code, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_kib": ru.ru_maxrss}))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', MEASURE, ...argv], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`could not run ${argv.join(' ')}: ${r.error?.message ?? r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split('\n').at(-1));
  // ortline exits 3 when rows were rejected: expected here.
  if (m.code !== 0 && m.code !== 3) throw new Error(`${argv.join(' ')} failed (${m.code}):\n${r.stderr}`);
  return {
    seconds: Number(m.wall.toFixed(3)),
    cpu_s: Number(m.cpu.toFixed(2)),
    max_rss_mib: Math.round(m.rss_kib / 1024),
  };
}

/** The two outputs line by line: ids in the same order, probabilities equal as float32. */
async function compare(a, b) {
  const next = (file) => createInterface({ input: createReadStream(file) })[Symbol.asyncIterator]();
  const ia = next(a);
  const ib = next(b);
  let lines = 0;
  let maxDiff = 0;
  for (;;) {
    const [x, y] = await Promise.all([ia.next(), ib.next()]);
    if (x.done || y.done) {
      if (x.done !== y.done) throw new Error(`the outputs differ in length after ${lines} lines`);
      break;
    }
    lines++;
    if (lines === 1) continue;
    const [idA, pA, riskA] = x.value.split(',');
    const [idB, pB, riskB] = y.value.split(',');
    if (idA !== idB || riskA !== riskB) throw new Error(`line ${lines}: ${x.value} against ${y.value}`);
    const d = Math.abs(Math.fround(Number(pA)) - Math.fround(Number(pB)));
    maxDiff = Math.max(maxDiff, d);
  }
  if (maxDiff > 1e-6) throw new Error(`probabilities differ by up to ${maxDiff}`);
  return { rows: lines - 1, max_abs_probability_difference: maxDiff };
}

function markdown(r) {
  const lines = [
    `# Bulk scoring: ${r.rows.toLocaleString('en')} rows`,
    '',
    `\`${r.command}\`, ${r.created}, ${r.machine.cpu} (${r.machine.cores} cores), ` +
      `${r.pinned_to_one_core ? 'each command pinned to one core' : 'not pinned'}.`,
    '',
    '| Format | System | Seconds | Rows/s | CPU s | Peak RSS MiB |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const [format, f] of Object.entries(r.formats))
    for (const [name, s] of Object.entries(f.systems))
      lines.push(
        `| ${format} | ${name} | ${s.seconds} | ${s.rows_per_s.toLocaleString('en')} | ${s.cpu_s} | ${s.max_rss_mib} |`,
      );
  lines.push('');
  for (const [format, f] of Object.entries(r.formats))
    lines.push(
      `${format}: ortline over the peer: **${f.ortline_over_peer}x** (median of ${f.systems.ortline.runs.length} run(s)). ` +
        `Both rejected the ${r.broken_rows} broken rows; the ${f.agreement.rows.toLocaleString('en')} answers agree ` +
        `(ids and order, probabilities as float32, largest difference ${f.agreement.max_abs_probability_difference}).`,
      '',
    );
  return lines.join('\n');
}
