// deploy/prometheus/rules.yaml: valid for Prometheus (promtool check), behaving as meant (promtool's
// unit tests in rules.test.yaml), and naming only metrics a real gateway exports.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SCORING_ROUTES } from '../../packages/gateway/src/metrics/requests.js';
import { repoRoot } from '../../packages/gateway/test/helpers.js';
import { exportedMetrics, unknownMetrics } from './metrics.js';

const DIR = join(repoRoot, 'deploy', 'prometheus');
const promtool = (...args: string[]) => spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (parse(readFileSync(join(DIR, 'rules.yaml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

describe('Prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    const r = promtool('check', 'rules', 'rules.yaml');
    expect(r.stderr + r.stdout).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('pass their promtool unit tests', () => {
    const r = promtool('test', 'rules', 'rules.test.yaml');
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  it('cover what an operator must hear about, each with a severity and a summary', () => {
    const names = rules.map((r) => r.alert);
    for (const a of [
      'OrtlineHighErrorRatio',
      'OrtlineLatencyP99AboveSlo',
      'OrtlineQueueSaturated',
      'OrtlineCacheBreakerOpen',
      'OrtlineModelGateFailed',
      'OrtlineFeatureDrift',
      'OrtlinePredictionDrift',
      'OrtlineNoReadyModel',
    ])
      expect(names).toContain(a);
    for (const r of rules) {
      expect(['page', 'warning'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
    }
    // Each alert has a unit test that expects it to fire.
    const tests = readFileSync(join(DIR, 'rules.test.yaml'), 'utf8');
    for (const r of rules)
      expect(tests, r.alert).toMatch(new RegExp(`alertname: ${r.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });

  it('name no metric a real gateway does not export', async () => {
    const exported = await exportedMetrics();
    const used = rules.flatMap((r) => [...r.expr.matchAll(/\bortline_[a-z0-9_]+/g)].map((m) => m[0]));
    expect(new Set(used).size).toBeGreaterThan(8);
    for (const r of rules) expect(unknownMetrics(r.expr, exported), r.alert).toEqual([]);
  });

  it("select the scoring routes by the gateway's own list of them", () => {
    const selectors = rules.flatMap((r) => [...r.expr.matchAll(/route=~"([^"]*)"/g)].map((m) => m[1]));
    expect(selectors.length).toBeGreaterThan(0);
    for (const s of selectors) expect(s).toBe(SCORING_ROUTES.join('|'));
  });
});
