// The Grafana dashboards: the committed JSON is what deploy/grafana/dashboards.ts builds (regenerate
// with UPDATE_DASHBOARDS=1 pnpm exec vitest run deploy/test/dashboards.test.ts), every query is
// valid PromQL (promtool parses it) over metrics a real gateway exports, and the panels a person
// needs are there.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { repoRoot } from '../../packages/gateway/test/helpers.js';
import { dashboards } from '../grafana/dashboards.js';
import { exportedMetrics, fillVariables, MAIN_PANELS, unknownMetrics } from './metrics.js';

const CHART_DIR = join(repoRoot, 'charts', 'ortline', 'files', 'dashboards');
const DEPLOY_DIR = join(repoRoot, 'deploy', 'grafana');
const built = dashboards();

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; refId: string }[];
}
const panels = (d: unknown) => ((d as { panels: Panel[] }).panels ?? []).filter((p) => p.type !== 'row');
const queries = () =>
  Object.entries(built).flatMap(([file, d]) =>
    panels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ file, panel: p.title, expr: t.expr }))),
  );

describe('Grafana dashboards', () => {
  it('are committed as built, in the chart and under deploy/grafana', () => {
    if (process.env.UPDATE_DASHBOARDS === '1')
      for (const [file, d] of Object.entries(built))
        writeFileSync(join(CHART_DIR, file), `${JSON.stringify(d, null, 2)}\n`);
    expect(readdirSync(CHART_DIR).sort()).toEqual(Object.keys(built).sort());
    for (const [file, d] of Object.entries(built)) {
      // On failure: the dashboards' code changed; regenerate (see the top of this file).
      expect(JSON.parse(readFileSync(join(CHART_DIR, file), 'utf8')), file).toEqual(JSON.parse(JSON.stringify(d)));
      expect(realpathSync(join(DEPLOY_DIR, file))).toBe(realpathSync(join(CHART_DIR, file)));
    }
  });

  it('show what operators look at', () => {
    for (const [file, titles] of Object.entries(MAIN_PANELS))
      expect(panels(built[file]).map((p) => p.title)).toEqual(expect.arrayContaining([...titles]));
    // The Redis breaker has no data without Redis, so it is not a main panel; it must still be there.
    expect(panels(built['service-overview.json']).map((p) => p.title)).toContain(
      'Redis (L2) circuit breaker: 0 closed, 1 half-open, 2 open',
    );
  });

  it('number their panels and queries, and read from the chosen data source', () => {
    for (const [file, d] of Object.entries(built)) {
      const all = (d as { panels: Panel[] }).panels;
      expect(new Set(all.map((p) => p.id)).size, file).toBe(all.length);
      for (const p of panels(d)) {
        // Grafana's variable syntax.
        expect(p.datasource?.uid, p.title).toBe(['$', '{datasource}'].join(''));
        expect(p.targets?.length, p.title).toBeGreaterThan(0);
        expect(new Set(p.targets!.map((t) => t.refId)).size, p.title).toBe(p.targets!.length);
      }
    }
  });

  it('query valid PromQL (promtool parses every query)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ortline-dash-'));
    try {
      const rules = queries().map((q, i) => ({ record: `dashboard:query_${i}`, expr: fillVariables(q.expr) }));
      writeFileSync(join(dir, 'queries.yaml'), stringify({ groups: [{ name: 'dashboards', rules }] }));
      const r = spawnSync('promtool', ['check', 'rules', 'queries.yaml'], { cwd: dir, encoding: 'utf8' });
      expect(r.stdout + r.stderr).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('name only metrics a real gateway exports', async () => {
    const exported = await exportedMetrics();
    for (const q of queries()) expect(unknownMetrics(q.expr, exported), `${q.file}: ${q.panel}`).toEqual([]);
  });
});
