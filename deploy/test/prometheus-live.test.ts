// The deploy files against the real thing: Debian's Prometheus server scrapes a real gateway under
// load, with the alert rules loaded; every dashboard query and every alert expression is run
// through Prometheus's HTTP API, the main panels return data, and the drift alert fires for the
// feature that was shifted, for the version that saw it, and for nothing else.
// The rules are loaded as they ship, except that every `for:` is cut to 2s so a test can wait it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bundledChurn, freePort, postJson, repoRoot, startInProcessOn } from '../../packages/gateway/test/helpers.js';
import { sample, seeded, telcoRecords } from '../../packages/monitor/test/telco.js';
import { dashboards } from '../grafana/dashboards.js';
import { fillVariables, MAIN_PANELS } from './metrics.js';

const work = mkdtempSync(join(tmpdir(), 'ortline-prom-'));
let gateway: Awaited<ReturnType<typeof startInProcessOn>>;
let prometheus: ChildProcess;
let promUrl = '';
let prometheusLog = '';
let loading = true;
let load: Promise<void>;

interface PromResult {
  status: string;
  error?: string;
  data: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] };
}

async function promQuery(expr: string): Promise<PromResult> {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await r.json()) as PromResult;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, seconds = 60): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; prometheus log:\n${prometheusLog.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Requests until the test is done: rows like the training data to the active version 1, and rows
 * with every Contract forced to "Two year" to version 2. */
async function generateLoad(url: string): Promise<void> {
  const rows = sample(telcoRecords(), 4000, seeded(41));
  const shifted = rows.map((r) => ({ ...r, Contract: 'Two year' }));
  let i = 0;
  while (loading) {
    const at = (i * 100) % rows.length;
    const [a, b] = await Promise.all([
      postJson(`${url}/v1/models/churn/predict`, { instances: rows.slice(at, at + 100) }),
      postJson(`${url}/v1/models/churn/versions/2/predict`, { instances: shifted.slice(at, at + 100) }),
    ]);
    if (a.status !== 200 || b.status !== 200) throw new Error(`load: ${a.status} ${b.status}`);
    i++;
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  gateway = await startInProcessOn(
    { '1': bundledChurn('1'), '2': bundledChurn('2') },
    { active: '1' },
    { drift: { windowRows: 2000, minRows: 500 } },
  );
  load = generateLoad(gateway.url);

  const rules = readFileSync(join(repoRoot, 'deploy/prometheus/rules.yaml'), 'utf8').replace(
    /for: \d+[smh]/g,
    'for: 2s',
  );
  writeFileSync(join(work, 'rules.yaml'), rules);
  writeFileSync(
    join(work, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files: [rules.yaml]',
      'scrape_configs:',
      '  - job_name: ortline',
      `    static_configs: [{ targets: ['127.0.0.1:${gateway.gateway.port}'] }]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(work, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(work, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stdout!.on('data', (d) => (prometheusLog += d));
  prometheus.stderr!.on('data', (d) => (prometheusLog += d));
  // Scraped, with the drift window full (version 2 has its PSI series).
  await until('the first scrapes', async () => {
    const r = await promQuery('ortline_feature_drift_psi{version="2",feature="Contract"}');
    return r.data.result.length > 0 ? true : undefined;
  });
  // Enough samples for rate() over a minute.
  await new Promise((r) => setTimeout(r, 4000));
}, 120_000);

afterAll(async () => {
  loading = false;
  await load?.catch(() => {});
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await gateway?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('against a real Prometheus', () => {
  it('runs every dashboard query, and the main panels return data', async () => {
    const main = new Set(Object.values(MAIN_PANELS).flat());
    let withData = 0;
    for (const [file, d] of Object.entries(dashboards())) {
      for (const p of (d as { panels: { title: string; targets?: { expr: string }[] }[] }).panels) {
        for (const t of p.targets ?? []) {
          const r = await promQuery(fillVariables(t.expr));
          expect(r.status, `${file}: ${p.title}: ${r.error}`).toBe('success');
          if (main.has(p.title)) {
            expect(r.data.result.length, `${file}: ${p.title} has no data`).toBeGreaterThan(0);
            withData++;
          }
        }
      }
    }
    expect(withData).toBeGreaterThanOrEqual(main.size);
  });

  it('runs every alert expression', async () => {
    const file = parse(readFileSync(join(repoRoot, 'deploy/prometheus/rules.yaml'), 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    for (const rule of file.groups.flatMap((g) => g.rules)) {
      const r = await promQuery(rule.expr);
      expect(r.status, `${rule.alert}: ${r.error}`).toBe('success');
    }
    // Prometheus loaded them all and evaluates them without error.
    const loaded = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const evaluated = loaded.data.groups.flatMap((g) => g.rules);
    expect(evaluated).toHaveLength(file.groups.flatMap((g) => g.rules).length);
    for (const r of evaluated) expect(r.health, `${r.name}: ${r.lastError}`).not.toBe('err');
  });

  it('fires the drift alert for the shifted feature of the version that saw it, and nothing else', async () => {
    const firing = await until('OrtlineFeatureDrift to fire', async () => {
      const r = await promQuery('ALERTS{alertstate="firing"}');
      return r.data.result.some((a) => a.metric.alertname === 'OrtlineFeatureDrift') ? r.data.result : undefined;
    });
    const features = firing.filter((a) => a.metric.alertname === 'OrtlineFeatureDrift');
    expect(features.map((a) => [a.metric.model, a.metric.version, a.metric.feature])).toEqual([
      ['churn', '2', 'Contract'],
    ]);
    expect(features[0]!.metric.severity).toBe('warning');
    // Only drift alerts, and only for version 2: no errors, latency, queue or readiness alert.
    for (const a of firing) {
      expect(['OrtlineFeatureDrift', 'OrtlinePredictionDrift'], a.metric.alertname).toContain(a.metric.alertname);
      expect(a.metric.version).toBe('2');
    }
  });
});
