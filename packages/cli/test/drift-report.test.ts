// `ortline drift-report` end to end: a real gateway logs its traffic (half of it with Contract
// shifted), the command reads the logs and gives the same PSI as the gateway's own window, and the
// page it writes reads right in a real browser (Debian's Chromium).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, launchChromium } from '../../gateway/test/browser.js';
import { bundledChurn, ensureBuilt, ortlineBin, postJson, startInProcessOn } from '../../gateway/test/helpers.js';
import { sample, seeded, telcoRecords } from '../../monitor/test/telco.js';

const training = telcoRecords();
const work = mkdtempSync(join(tmpdir(), 'ortline-report-'));
const logDir = join(work, 'log');
let live: { window: { rows: number }; features: { name: string; psi: number }[]; prediction: { psi: number } };

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  ensureBuilt();
  const r = spawnSync(process.execPath, [ortlineBin, 'drift-report', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  const gateway = await startInProcessOn(
    { '1': bundledChurn('1'), '2': bundledChurn('2') },
    { active: '1' },
    { drift: { windowRows: 100_000, minRows: 500 }, trafficLog: { sampleRate: 1, dir: logDir } },
  );
  try {
    const rows = sample(training, 3000, seeded(31)).map((r, i) => (i < 1500 ? r : { ...r, Contract: 'Two year' }));
    for (let i = 0; i < rows.length; i += 500) {
      const a = await postJson(`${gateway.url}/v1/models/churn/predict`, { instances: rows.slice(i, i + 500) });
      expect(a.status).toBe(200);
    }
    // Rows of another version: in the log, not in version 1's report.
    expect(
      (await postJson(`${gateway.url}/v1/models/churn/versions/2/predict`, { instances: rows.slice(0, 40) })).status,
    ).toBe(200);
    live = (await (await fetch(`${gateway.url}/v1/models/churn/drift?version=1`)).json()) as typeof live;
  } finally {
    await gateway.close();
  }
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('ortline drift-report', () => {
  const out = join(work, 'report.html');
  const json = join(work, 'report.json');

  it('computes the same PSI from the logs as the gateway did live', () => {
    const r = cli(['--log', logDir, '--model-dir', bundledChurn('1'), '--out', out, '--json', json]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/churn version 1, 3000 rows; 1 feature\(s\) drifting \(Contract \d+\.\d\d\)/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.rows).toBe(3000);
    expect(report.skipped).toEqual({ otherVersions: 40, outsideRange: 0, unreadable: 0 });
    expect(live.window.rows).toBe(3000);
    for (const f of live.features) {
      const mine = report.features.find((x: { name: string }) => x.name === f.name);
      expect(mine.psi, f.name).toBeCloseTo(f.psi, 10);
    }
    expect(report.prediction.psi).toBeCloseTo(live.prediction.psi, 10);
    expect(report.features.find((f: { name: string }) => f.name === 'Contract').status).toBe('drift');
  });

  it('limits the rows to a time range', () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const r = cli(['--log', logDir, '--model-dir', bundledChurn('1'), '--out', out, '--json', json, '--since', future]);
    expect(r.status).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.rows).toBe(0);
    expect(report.skipped.outsideRange).toBe(3000);
    expect(
      report.features.every(
        (f: { psi: unknown; status: string }) => f.psi === null && f.status === 'insufficient_data',
      ),
    ).toBe(true);
  });

  it('says what is wrong with its arguments', () => {
    expect(cli(['--log', logDir]).status).toBe(2);
    const bad = cli(['--log', logDir, '--model-dir', 'x', '--out', out, '--since', 'yesterday']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--since must be an ISO 8601 time/);
    const missing = cli(['--log', logDir, '--model-dir', join(work, 'nowhere'), '--out', out]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/model\.json/);
    const noLog = cli(['--log', join(work, 'nolog'), '--model-dir', bundledChurn('1'), '--out', out]);
    expect(noLog.status).toBe(1);
    expect(noLog.stderr).toMatch(/ENOENT/);
  });

  describe('the page, in Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      const r = cli(['--log', logDir, '--model-dir', bundledChurn('1'), '--out', out]);
      expect(r.status).toBe(0);
      browser = await launchChromium();
    });
    afterAll(() => browser?.close());

    it('lists the features by drift, draws every histogram, needs no script or network', async () => {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`file://${out}`);
      await expect(page.title()).resolves.toBe('Drift report: churn, version 1');
      const [name, psi, status] = await page.locator('#features tbody tr').first().locator('td').allTextContents();
      expect([name, status]).toEqual(['Contract', 'drift']);
      expect(psi).toMatch(/^\d+\.\d{3}$/);
      const statuses = await page.locator('#features tbody tr td:nth-child(3)').allTextContents();
      expect(statuses.filter((s) => s === 'drift')).toHaveLength(1);
      expect(statuses.filter((s) => s === 'ok')).toHaveLength(18);
      expect(await page.locator('#count-drift b').textContent()).toBe('1');
      // One histogram per feature and one for the prediction, each with two bars per bin.
      expect(await page.locator('section svg').count()).toBe(20);
      const contractBars = await page.locator('#f-Contract svg rect').count();
      expect(contractBars).toBe(2 * 5);
      // Hovering a bar names its bin and both shares.
      expect(await page.locator('#f-Contract svg rect title').first().textContent()).toMatch(
        /^Month-to-month: reference 55\.4 %, current \d+\.\d %$/,
      );
      expect(await page.locator('script').count()).toBe(0);
      expect(requests).toEqual([`file://${out}`]);
      expect(errors).toEqual([]);
      await page.screenshot({ path: artifactPath('drift-report.png'), fullPage: true });
      await page.close();
    });
  });
});
