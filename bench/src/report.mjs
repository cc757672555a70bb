// The run's report as markdown and its charts as SVG, both from the JSON report alone, so an old
// results file can be rendered again: `node bench/src/report.mjs bench/results/<stamp>.json`.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { overloadMarkdown } from './overload-report.mjs';
import { short, svgDocument } from './svg.mjs';

export const COLORS = {
  ortline: '#d9480f',
  'ortline-l1': '#f59f00',
  fastapi: '#1971c2',
  fastify: '#2f9e44',
  'fastify-x2': '#8ce99a',
  'uws-echo': '#868e96',
};
const PCT = { p50: '#a5d8ff', p90: '#4dabf7', p99: '#1864ab' };
const INPROC = {
  'ortline run': '#d9480f',
  'ortline runSync': '#f59f00',
  'onnxruntime-node': '#2f9e44',
  'rust ort': '#868e96',
};

const label = (report, id) => report.systems.find((s) => s.id === id)?.label ?? id;
const shortLabel = (report, id) => report.systems.find((s) => s.id === id)?.short ?? label(report, id);
const fmt = (x, d = 0) =>
  x === null || x === undefined || !Number.isFinite(x)
    ? 'n/a'
    : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const ms = (x) =>
  x === null || x === undefined || !Number.isFinite(x)
    ? 'n/a'
    : x < 10
      ? x.toFixed(2)
      : x < 100
        ? x.toFixed(1)
        : fmt(x);
const times = (x) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(x < 10 ? 2 : 1)}×`);

function line(report, id, c) {
  return report.http.find((h) => h.system === id && h.connections === c)?.median ?? null;
}

/** The issue's targets, at 256 connections (or the level nearest to it that was run). */
export function targets(report) {
  const levels = report.settings.connections;
  const c = levels.includes(256) ? 256 : levels[Math.min(1, levels.length - 1)];
  const rows = [];
  const has = (id) => report.systems.some((s) => s.id === id);
  for (const g of ['ortline', 'ortline-l1'].filter(has)) {
    const r = report.ratios?.[g]?.[c] ?? {};
    const me = line(report, g, c);
    const name = label(report, g);
    const add = (target, measured, met) => rows.push({ system: g, target, measured, met });
    if (has('fastapi')) add(`${name} ≥ 20× FastAPI (req/s, ${c} conns)`, times(r.fastapi), r.fastapi >= 20);
    if (has('fastify'))
      add(`${name} ≥ 3× Fastify + onnxruntime-node (req/s, ${c} conns)`, times(r.fastify), r.fastify >= 3);
    if (has('fastify-x2'))
      add(
        `${name} ≥ 3× Fastify ×2 processes (req/s, ${c} conns; not in the issue, for reference)`,
        times(r['fastify-x2']),
        r['fastify-x2'] >= 3,
      );
    const peers = ['fastapi', 'fastify'].filter(has);
    if (peers.length && me) {
      const p99s = peers.map((p) => line(report, p, c)?.latency_ms.p99);
      add(
        `${name} p99 lower than ${peers.map((p) => label(report, p)).join(' and ')} (${c} conns)`,
        `${ms(me.latency_ms.p99)} ms vs ${p99s.map(ms).join(' / ')} ms`,
        p99s.every((p) => me.latency_ms.p99 < p),
      );
    }
    if (has('uws-echo'))
      add(`${name} ≥ 0.5× the uWS echo ceiling (req/s, ${c} conns)`, times(r['uws-echo']), r['uws-echo'] >= 0.5);
  }
  return { connections: c, rows };
}

export function markdown(report, charts) {
  const m = report.machine;
  const v = report.versions;
  const s = report.settings;
  const out = [];
  out.push(
    `# ortline benchmark, ${report.created.slice(0, 16).replace('T', ' ')} UTC${report.smoke ? ' (smoke run: figures meaningless)' : ''}`,
  );
  out.push('');
  out.push(`Command: \`${report.command}\`  `);
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, Linux ${m.kernel}; Node ${v.node}${v.python ? `, Python ${v.python}` : ''}.  `,
  );
  if (s.load_generator)
    out.push(
      `Load: ${s.load_generator === 'wrk' ? `wrk ${v.wrk ?? ''} (${s.wrk_threads} threads)` : `autocannon ${v.autocannon}`} on the same machine, closed loop, ${s.duration_s} s per measurement, client timeout ${s.client_timeout_s} s; ${s.body}. Median of ${s.rounds} interleaved round(s) (the order of the systems rotates each round).${s.load_generator_note ? ` ${s.load_generator_note}.` : ''}  `,
    );
  out.push(`${m.note} The figures are noisy; compare systems within this run, not with other machines.`);
  if (report.failure) out.push('', `**The run failed:** \`${report.failure.split('\n')[0]}\``);
  out.push('');

  if (report.correctness?.http) {
    const c = report.correctness;
    out.push('## Correctness, checked before timing');
    out.push('');
    out.push(
      `Each system scored the ${report.model.parity_rows} parity rows of churn v${report.model.version} over HTTP (one record per request); the training pipeline's sklearn probability is the reference, tolerance ${c.tolerance}.`,
    );
    out.push('');
    out.push('| system | rows | max \\|diff\\| vs sklearn | still right after the load |');
    out.push('|---|---:|---:|---|');
    for (const [id, x] of Object.entries(c.http)) {
      out.push(
        `| ${label(report, id)} | ${x.rows} | ${x.max_abs_diff_vs_sklearn === null ? 'constant answer (ceiling): shape only' : x.max_abs_diff_vs_sklearn.toExponential(2)}${x.ok ? '' : ' **FAILED**'} | ${x.after_load ? (x.after_load.ok ? 'yes' : '**no**') : 'n/a'} |`,
      );
    }
    if (c.ws)
      out.push(
        `| ${label(report, 'ortline')}, WebSocket | ${c.ws.rows} | ${c.ws.max_abs_diff_vs_sklearn.toExponential(2)}${c.ws.ok ? '' : ' **FAILED**'} | |`,
      );
    out.push('');
    out.push(
      `Between systems (${c.between_systems.systems.map((id) => label(report, id)).join(', ')}): max |diff| ${c.between_systems.max_abs_diff.toExponential(2)}, same risk category for every row: ${c.between_systems.ok ? 'yes' : '**no**'}.`,
    );
    out.push('');
  }

  if (report.http.length) {
    const t = targets(report);
    out.push(`## Targets, at ${t.connections} connections`);
    out.push('');
    out.push('| target | measured | met |');
    out.push('|---|---:|---|');
    for (const r of t.rows) out.push(`| ${r.target} | ${r.measured} | ${r.met ? 'yes' : '**no**'} |`);
    out.push('');

    out.push('## HTTP, single-record predictions');
    out.push('');
    out.push(
      "req/s counts 2xx answers only. Errors: connect/read/write errors, timeouts and non-2xx answers over the measurement (median round). CPU: the server's whole process tree (utime + stime from /proc), in cores; req/CPU-s: answers per second of server CPU.",
    );
    out.push('');
    out.push('| system | conns | req/s | p50 ms | p90 ms | p99 ms | errors | server CPU | req/CPU-s | rounds, req/s |');
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const c of s.connections) {
      for (const h of report.http.filter((x) => x.connections === c)) {
        const md = h.median;
        const extra = [];
        if (md?.l1_hit_ratio !== undefined && md?.l1_hit_ratio !== null)
          extra.push(`L1 hits ${(md.l1_hit_ratio * 100).toFixed(0)}%`);
        if (md?.mean_batch_rows) extra.push(`batch ${md.mean_batch_rows.toFixed(1)}`);
        const errs = md
          ? `${fmt(md.errors)}${md.errors ? ` (${[md.timeouts ? `${fmt(md.timeouts)} timeouts` : '', md.connect_errors ? `${fmt(md.connect_errors)} connect` : '', md.non2xx ? `${fmt(md.non2xx)} non-2xx` : ''].filter(Boolean).join(', ') || 'read/write'}; ${(md.error_share * 100).toFixed(1)}%)` : ''}`
          : 'n/a';
        out.push(
          `| ${label(report, h.system)}${extra.length ? ` (${extra.join(', ')})` : ''} | ${c} | ${md ? fmt(md.rps) : '**failed**'} | ${ms(md?.latency_ms.p50)} | ${ms(md?.latency_ms.p90)} | ${ms(md?.latency_ms.p99)} | ${errs} | ${md ? md.server_cpu_cores.toFixed(2) : 'n/a'} | ${md ? fmt(md.requests_per_cpu_s) : 'n/a'} | ${h.rounds.map((r) => (r.failed ? 'failed' : fmt(r.rps))).join(' / ')} |`,
        );
      }
    }
    out.push('');

    const gateways = Object.keys(report.ratios ?? {});
    if (gateways.length) {
      const others = report.systems.map((x) => x.id);
      out.push('## Ratios, measured side by side');
      out.push('');
      out.push(
        "The gateway's req/s over each other system's, in the same round, median over rounds; then the same for requests per second of server CPU (the systems do not all use the same share of the two cores).",
      );
      out.push('');
      for (const g of gateways) {
        const cols = others.filter((o) => o !== g);
        out.push(`| ${label(report, g)} over | ${cols.map((o) => label(report, o)).join(' | ')} |`);
        out.push(`|---:|${cols.map(() => '---:').join('|')}|`);
        for (const c of s.connections)
          out.push(`| ${c} conns | ${cols.map((o) => times(report.ratios[g][c]?.[o])).join(' | ')} |`);
        for (const c of s.connections)
          out.push(
            `| ${c} conns, per server CPU-second | ${cols.map((o) => times(report.ratios[g][c]?.per_cpu?.[o])).join(' | ')} |`,
          );
        out.push('');
      }
    }
    const cpuOther = report.http.map((h) => h.median?.other_cpu_cores).filter(Number.isFinite);
    if (cpuOther.length) {
      const lg = report.http.map((h) => h.median?.loadgen_cpu_cores).filter(Number.isFinite);
      out.push(
        `Load generator CPU: ${Math.min(...lg).toFixed(2)} to ${Math.max(...lg).toFixed(2)} cores. CPU used by other work on the machine during the measurements: ${Math.min(...cpuOther).toFixed(2)} to ${Math.max(...cpuOther).toFixed(2)} cores (median ${[...cpuOther].sort((a, b) => a - b)[cpuOther.length >> 1].toFixed(2)}).`,
      );
      out.push('');
    }
  }

  if (report.ws) {
    const w = report.ws;
    out.push('## WebSocket, pipelined');
    out.push('');
    out.push(
      `${label(report, 'ortline')} (caches off), /v1/stream, ${s.ws.connections} connections × ${s.ws.window} frames in flight, one record per frame, client: ${s.ws.client}.`,
    );
    out.push('');
    out.push('| predictions/s | errors | mean batch rows | server CPU | rounds |');
    out.push('|---:|---:|---:|---:|---|');
    out.push(
      `| ${fmt(w.median.predictions_per_s)} | ${fmt(w.median.errors)} | ${w.median.mean_batch_rows ? w.median.mean_batch_rows.toFixed(1) : 'n/a'} | ${w.median.server_cpu_cores.toFixed(2)} | ${w.rounds.map((r) => fmt(r.predictions_per_s)).join(' / ')} |`,
    );
    out.push('');
  }

  if (report.reload) {
    const r = report.reload;
    const f = (x) => (x === null || x === undefined ? 'n/a' : x.toFixed(2));
    out.push('## Reload soak');
    out.push('');
    out.push(
      `${r.cycles} cycles (${r.cycle}) in ${r.seconds.toFixed(1)} s under light load (${r.load.answered} predictions, ${r.load.non_200} not 200). Command: \`${r.command}\`.`,
    );
    out.push('');
    out.push('| | first sample | end | slope, MiB per 100 cycles (target < 1) |');
    out.push('|---|---:|---:|---:|');
    out.push(`| RSS | ${f(r.start?.rss_mib)} MiB | ${f(r.end?.rss_mib)} MiB | ${f(r.slope_mib_per_100_cycles.rss)} |`);
    out.push(
      `| Heap used (after GC) | ${f(r.start?.heap_used_mib)} MiB | ${f(r.end?.heap_used_mib)} MiB | ${f(r.slope_mib_per_100_cycles.heap_used)} |`,
    );
    out.push('');
  }

  if (report.overload) out.push(overloadMarkdown(report.overload));
  if (report.soak?.markdown) out.push(report.soak.markdown);
  if (report.bulk?.markdown) out.push(report.bulk.markdown);
  if (report.latency?.markdown) out.push(report.latency.markdown);

  if (report.inprocess) {
    const ip = report.inprocess;
    out.push('## In-process (one call, no HTTP)');
    out.push('');
    out.push(
      `tinybench, ${ip.settings.time_ms_per_task_per_round} ms per task per round, median of ${ip.settings.rounds} interleaved round(s); ${ip.settings.intra_op_threads} intra-op thread; same libonnxruntime for all. Every contender was checked against the parity rows first.`,
    );
    out.push('');
    out.push('| batch | contender | rows/s | mean ms | p99 ms | max \\|diff\\| vs sklearn |');
    out.push('|---:|---|---:|---:|---:|---:|');
    for (const r of ip.results)
      out.push(
        `| ${r.batch} | ${r.contender} | ${fmt(r.rows_per_s)} | ${r.latency_ms.mean.toFixed(4)} | ${r.latency_ms.p99.toFixed(4)} | ${r.max_abs_diff_vs_sklearn.toExponential(1)} |`,
      );
    out.push('');
    out.push(
      '| batch | ortline run / onnxruntime-node | ortline runSync / onnxruntime-node | ortline run / Rust floor |',
    );
    out.push('|---:|---:|---:|---:|');
    for (const r of ip.ratios)
      out.push(
        `| ${r.batch} | ${times(r.ortline_vs_onnxruntime_node)} | ${times(r.ortline_sync_vs_onnxruntime_node)} | ${times(r.ortline_vs_rust_floor)} |`,
      );
    out.push('');
  }

  if (charts && Object.keys(charts).length) {
    out.push('## Charts');
    out.push('');
    for (const [k, f] of Object.entries(charts)) out.push(`![${k}](${f})`, '');
  }

  if (report.systems.length) {
    out.push('## Systems');
    out.push('');
    for (const x of report.systems)
      out.push(
        `- **${x.label}** (\`${x.id}\`): ${x.detail}${x.startup_s !== undefined ? `; ready in ${x.startup_s} s` : ''}.`,
      );
    out.push('');
    out.push(
      `Versions: ${Object.entries(v)
        .filter(([, x]) => x)
        .map(([k, x]) => `${k} ${x}`)
        .join(', ')}.`,
    );
    out.push('');
  }
  return out.join('\n');
}

/**
 * The README's block: one line per system (req/s at each concurrency, p99 and CPU at the target
 * level, errors at the highest), the targets, the charts. `dir` is where the charts are, relative
 * to the README.
 */
export function summary(report, dir, charts) {
  const s = report.settings;
  const t = targets(report);
  const top = Math.max(...s.connections);
  const v = report.versions;
  const out = [];
  out.push(
    `Measured ${report.created.slice(0, 10)} with \`${report.command}\` on ${report.machine.cpu}, ${report.machine.cores} cores (${s.load_generator} on the same cores; the machine was shared with other work, so figures are noisy; ratios are taken within each round). Node ${v.node}${v.python ? `, Python ${v.python}` : ''}, onnxruntime ${v['onnxruntime-node']} (Node) / ${v['onnxruntime (python)'] ?? 'n/a'} (Python). Median of ${s.rounds} interleaved rounds of ${s.duration_s} s; every system first answered the ${report.model.parity_rows} parity rows like sklearn (max |diff| ${report.correctness?.between_systems ? report.correctness.between_systems.max_abs_diff.toExponential(1) : 'n/a'} between systems).`,
  );
  out.push('');
  out.push(
    `| system | ${s.connections.map((c) => `req/s @${c}`).join(' | ')} | p50 / p99 ms @${t.connections} | server CPU @${t.connections} | errors @${top} |`,
  );
  out.push(`|---|${s.connections.map(() => '---:').join('|')}|---:|---:|---:|`);
  for (const x of report.systems) {
    const at = (c) => line(report, x.id, c);
    const m = at(t.connections);
    const e = at(top);
    const errs = e ? (e.errors ? `${fmt(e.errors)} (${(e.error_share * 100).toFixed(1)}%)` : '0') : 'n/a';
    out.push(
      `| ${x.label} | ${s.connections.map((c) => (at(c) ? fmt(at(c).rps) : 'n/a')).join(' | ')} | ${m ? `${ms(m.latency_ms.p50)} / ${ms(m.latency_ms.p99)}` : 'n/a'} | ${m ? m.server_cpu_cores.toFixed(2) : 'n/a'} | ${errs} |`,
    );
  }
  out.push('');
  if (report.ws)
    out.push(
      `WebSocket, pipelined (${s.ws.connections} connections × ${s.ws.window} in flight): ${fmt(report.ws.median.predictions_per_s)} predictions/s, ${fmt(report.ws.median.errors)} errors.`,
      '',
    );
  out.push(`| target (at ${t.connections} connections) | measured | met |`);
  out.push('|---|---:|---|');
  for (const r of t.rows)
    out.push(
      `| ${r.target.replace(/ \((req\/s, )?\d+ conns(; [^)]*)?\)/, (_m0, _a, b) => (b ? ` (${b.slice(2)})` : ''))} | ${r.measured} | ${r.met ? 'yes' : '**no**'} |`,
    );
  out.push('');
  for (const [k, f] of Object.entries(charts)) out.push(`![${k}](${dir}/${f})`);
  out.push('');
  return out.join('\n');
}

export function charts(report) {
  const out = {};
  const s = report.settings;
  const ids = report.systems.map((x) => x.id).filter((id) => report.http.some((h) => h.system === id));
  if (ids.length) {
    out.throughput = svgDocument(980, [
      {
        title: 'Single-record predictions per second over HTTP',
        subtitle: `${report.machine.cores} cores shared by server and load generator (${s.load_generator}); median of ${s.rounds} round(s) of ${s.duration_s} s; 2xx answers only`,
        groups: s.connections.map((c) => `${c} connections`),
        series: ids.map((id) => ({
          name: shortLabel(report, id),
          color: COLORS[id] ?? '#444',
          values: s.connections.map((c) => line(report, id, c)?.rps ?? NaN),
        })),
        yLabel: 'requests/s',
        log: true,
        height: 460,
      },
    ]);
    out.latency = svgDocument(
      980,
      s.connections.map((c, i) => ({
        title: i === 0 ? `Latency percentiles (ms), by connections` : '',
        subtitle: `${c} connections${i === 0 ? ' · closed loop, answers only (timeouts are counted as errors, not latency)' : ''}`,
        groups: ids.map((id) => shortLabel(report, id)),
        series: ['p50', 'p90', 'p99'].map((p) => ({
          name: p,
          color: PCT[p],
          values: ids.map((id) => line(report, id, c)?.latency_ms[p] ?? NaN),
        })),
        yLabel: 'ms',
        log: true,
        height: 340,
        format: (x) => (x >= 1000 ? `${(x / 1000).toFixed(1)}s` : short(x)),
      })),
    );
  }
  if (report.inprocess) {
    const ip = report.inprocess;
    const batches = [...new Set(ip.results.map((r) => r.batch))];
    const contenders = [...new Set(ip.results.map((r) => r.contender))];
    out.inprocess = svgDocument(980, [
      {
        title: 'In-process rows per second, by batch size',
        subtitle: `churn model, one intra-op thread, same libonnxruntime; median of ${ip.settings.rounds} round(s)`,
        groups: batches.map((b) => `batch ${b}`),
        series: contenders.map((c) => ({
          name: c,
          color: INPROC[c] ?? '#444',
          values: batches.map((b) => ip.results.find((r) => r.batch === b && r.contender === c)?.rows_per_s ?? NaN),
        })),
        yLabel: 'rows/s',
        log: true,
        height: 420,
      },
    ]);
  }
  return out;
}

// Re-render a saved report: node bench/src/report.mjs <report.json> [--readme]
// Writes <report>.md and its SVGs next to it; --readme also puts its figures into bench/README.md.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/src/report.mjs <report.json> [--readme]');
    process.exit(2);
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const base = file.replace(/\.json$/, '');
  const svgs = charts(report);
  const prefix = base.split('/').at(-1);
  const names = Object.fromEntries(Object.keys(svgs).map((k) => [k, `${prefix}.${k}.svg`]));
  for (const [k, svg] of Object.entries(svgs)) writeFileSync(`${base}.${k}.svg`, svg);
  writeFileSync(`${base}.md`, markdown(report, names));
  console.error(`wrote ${base}.md and ${Object.keys(svgs).length} charts`);
  if (process.argv.includes('--readme')) {
    const readme = fileURLToPath(new URL('../README.md', import.meta.url));
    console.error(
      updateReadme(readme, summary(report, 'results', names))
        ? 'updated bench/README.md'
        : 'bench/README.md has no <!-- bench:latest:start/end --> markers',
    );
  }
}

/** Replaces the block between the markers; false when there are none. */
export function updateReadme(path, block) {
  const marks = ['<!-- bench:latest:start -->', '<!-- bench:latest:end -->'];
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(marks[0]);
  const b = text.indexOf(marks[1]);
  if (a < 0 || b < a) return false;
  writeFileSync(path, `${text.slice(0, a + marks[0].length)}\n${block}${text.slice(b)}`);
  return true;
}
