// `pnpm bench --smoke`, as CI runs it: every system starts, answers every parity row like sklearn
// (within 1e-5) and like the others, still answers right after the load, and the report and charts
// are written. No timing is asserted: CI machines are noisy and shared.
// The run installs its own prerequisites (the FastAPI venv; wrk through apt when it may, else it
// falls back to autocannon), so the first run on a fresh machine takes longer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'ortline-bench-suite-'));
const fallbackOut = mkdtempSync(join(tmpdir(), 'ortline-bench-fallback-'));
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  rmSync(fallbackOut, { recursive: true, force: true });
});

interface Median {
  rps: number;
  latency_ms: { p50: number; p90: number; p99: number };
  server_cpu_cores: number;
}
interface Report {
  smoke: boolean;
  systems: { id: string; startup_s?: number }[];
  settings: { load_generator: string; connections: number[] };
  correctness: {
    tolerance: number;
    http: Record<
      string,
      { ok: boolean; rows: number; max_abs_diff_vs_sklearn: number | null; after_load?: { ok: boolean } }
    >;
    between_systems: { ok: boolean; max_abs_diff: number; systems: string[] };
    ws?: { ok: boolean; max_abs_diff_vs_sklearn: number };
  };
  http: {
    system: string;
    connections: number;
    median: Median | null;
    rounds: { failed?: string; requests?: number }[];
  }[];
  ws: { median: { predictions_per_s: number } } | null;
  inprocess: { results: { contender: string; max_abs_diff_vs_sklearn: number }[] } | null;
  failure?: string;
}

// --no-setup: the FastAPI peer and wrk come from scripts/setup-dev.sh; tests install nothing.
function bench(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['bench/src/run.mjs', '--no-setup', ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stderr: r.stderr };
}

describe('pnpm bench --smoke', () => {
  let run: { status: number | null; stderr: string };
  let report: Report;
  beforeAll(() => {
    run = bench(['--smoke', '--out', out]);
    if (existsSync(join(out, 'latest.json'))) report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
  }, 600_000);

  it('exits 0 and writes the report', () => {
    expect(run.status, run.stderr.slice(-4000)).toBe(0);
    expect(report.smoke).toBe(true);
    expect(report.failure).toBeUndefined();
  });

  it('started every system', () => {
    const ids = report.systems.map((s) => s.id);
    for (const id of ['ortline', 'fastapi', 'fastify', 'fastify-x2', 'uws-echo']) expect(ids).toContain(id);
    for (const s of report.systems) expect(s.startup_s, s.id).toBeGreaterThan(0);
  });

  it('every model-serving system answered every parity row like sklearn and like the others', () => {
    const c = report.correctness;
    expect(c.tolerance).toBeLessThanOrEqual(1e-5);
    for (const [id, x] of Object.entries(c.http)) {
      expect(x.ok, id).toBe(true);
      expect(x.rows, id).toBe(300);
      if (id !== 'uws-echo') expect(x.max_abs_diff_vs_sklearn, id).toBeLessThanOrEqual(1e-5);
      expect(x.after_load?.ok, `${id} after the load`).toBe(true);
    }
    expect(c.between_systems.ok).toBe(true);
    expect(c.between_systems.max_abs_diff).toBeLessThanOrEqual(1e-5);
    expect(c.between_systems.systems).toEqual(expect.arrayContaining(['ortline', 'fastapi', 'fastify']));
    expect(c.ws?.ok).toBe(true);
    expect(c.ws?.max_abs_diff_vs_sklearn).toBeLessThanOrEqual(1e-5);
  });

  it('measured every system at every concurrency, and the WebSocket stream', () => {
    for (const s of report.systems) {
      for (const conns of report.settings.connections) {
        const h = report.http.find((x) => x.system === s.id && x.connections === conns);
        expect(h?.median, `${s.id} at ${conns}`).not.toBeNull();
        expect(
          h?.rounds.every((r) => !r.failed),
          `${s.id} at ${conns}`,
        ).toBe(true);
      }
    }
    expect(report.ws?.median.predictions_per_s).toBeGreaterThan(0);
  });

  it('ran the in-process part, checked against sklearn', () => {
    const contenders = new Set(report.inprocess?.results.map((r) => r.contender));
    expect([...contenders].sort()).toEqual(['onnxruntime-node', 'ortline run', 'ortline runSync', 'rust ort']);
    for (const r of report.inprocess!.results) expect(r.max_abs_diff_vs_sklearn).toBeLessThanOrEqual(1e-5);
  });

  it('wrote the markdown table and the SVG charts, dated and as latest.*', () => {
    const files = readdirSync(out);
    for (const suffix of ['json', 'md', 'throughput.svg', 'latency.svg', 'inprocess.svg']) {
      expect(files, suffix).toContain(`latest.${suffix}`);
      expect(
        files.some((f) => /^\d{4}-\d\d-\d\dT/.test(f) && f.endsWith(`.${suffix}`)),
        suffix,
      ).toBe(true);
    }
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    expect(md).toContain('| system | conns | req/s | p50 ms | p90 ms | p99 ms |');
    expect(md).toContain('FastAPI + onnxruntime');
    expect(md).toContain('![throughput](latest.throughput.svg)');
    for (const chart of ['throughput', 'latency', 'inprocess']) {
      const svg = readFileSync(join(out, `latest.${chart}.svg`), 'utf8');
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), chart).toBe(true);
      expect(svg).toContain('<rect');
    }
  });
});

// The load generator CI gets when wrk cannot be installed.
it('falls back to autocannon', () => {
  const r = bench([
    '--smoke',
    '--parts',
    'http',
    '--systems',
    'ortline,uws-echo',
    '--connections',
    '64',
    '--load-generator',
    'autocannon',
    '--out',
    fallbackOut,
  ]);
  expect(r.status, r.stderr.slice(-4000)).toBe(0);
  const report: Report = JSON.parse(readFileSync(join(fallbackOut, 'latest.json'), 'utf8'));
  expect(report.settings.load_generator).toBe('autocannon');
  for (const h of report.http) {
    expect(h.median, h.system).not.toBeNull();
    expect(h.rounds[0]!.requests, h.system).toBeGreaterThan(0);
  }
}, 300_000);
