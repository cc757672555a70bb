// Score a file in Chromium: 500 rows of the training data with a few broken on purpose, through a
// gateway that takes at most 200 rows a request. The counts, the rows with errors and their
// messages, and the downloaded file all match what the API answers for the same rows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../gateway/test/helpers.js';
import { parseCsv } from '../src/csv.js';
import { apiPredict } from './customers.js';
import { type Console, startConsole } from './harness.js';

const NUMERIC = new Set(['SeniorCitizen', 'tenure', 'MonthlyCharges', 'TotalCharges']);
/** Broken rows (0-based data rows) and what is wrong with them. */
const BROKEN: Record<number, Record<string, string>> = {
  10: { tenure: '-3' },
  77: { Contract: 'Weekly' },
  250: { MonthlyCharges: 'lots', gender: 'X' },
  499: { SeniorCitizen: '2' },
};

const lines = readFileSync(join(repoRoot, 'models/training/data/telco-churn.csv'), 'utf8').trim().split(/\r?\n/);
const header = lines[0]!.split(',');
const rows = lines.slice(1, 501).map((l, i) => {
  const cells = l.split(',');
  for (const [column, value] of Object.entries(BROKEN[i] ?? {})) cells[header.indexOf(column)] = value;
  return cells;
});
const csv = `${[header, ...rows].map((r) => r.join(',')).join('\r\n')}\r\n`;

/** A row as any API client would send it: numbers as numbers, a blank cell left out, no label. */
function record(cells: string[]): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  header.forEach((c, i) => {
    const v = cells[i]!.trim();
    if (c === 'Churn' || v === '') return;
    r[c] = NUMERIC.has(c) && Number.isFinite(Number(v)) ? Number(v) : v;
  });
  return r;
}

/**
 * The input is disabled until the chosen version's schema has loaded, and a file set before then
 * is ignored (Playwright sets files on a disabled input all the same): wait for it.
 */
async function chooseFile(page: Page, name: string, text: string): Promise<void> {
  await page.locator('#csv-file:enabled').waitFor();
  await page.getByLabel('CSV file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });
}

let app: Console;
beforeAll(async () => {
  app = await startConsole({ maxInstances: 200 });
});
afterAll(async () => {
  await app?.close();
});

describe('Score a file', () => {
  it('splits 500 rows into requests, and its counts, error rows and download match the API', async () => {
    const good = rows.map((_, i) => i).filter((i) => BROKEN[i] === undefined);
    const expected = new Map<number, any>();
    for (let k = 0; k < good.length; k += 200) {
      const part = good.slice(k, k + 200);
      const api = await apiPredict(
        app.url,
        part.map((i) => record(rows[i]!)),
      );
      expect(api.status).toBe(200);
      for (const [j, i] of part.entries()) expected.set(i, api.json.predictions[j]);
    }
    const messages = new Map<number, Map<string, string>>();
    for (const i of Object.keys(BROKEN).map(Number)) {
      const bad = await apiPredict(app.url, [record(rows[i]!)]);
      expect(bad.status).toBe(422);
      messages.set(
        i,
        new Map(
          bad.json.error.details.issues.map((x: { field: string; message: string }) => [
            x.field,
            x.message.replace(/^row \d+: /, ''),
          ]),
        ),
      );
    }

    const { page, complaints, screenshot } = await app.open('file');
    // Each request's fate, so that a run that never finishes says which request it waits for.
    const predicts: { url: string; sent: number; outcome: string }[] = [];
    const started = performance.now();
    const since = () => Math.round(performance.now() - started);
    page.on('request', (r) => {
      if (r.method() !== 'POST' || !r.url().endsWith('/predict')) return;
      const entry = { url: r.url(), sent: since(), outcome: 'pending' };
      predicts.push(entry);
      r.response().then(
        (res) => {
          entry.outcome = `${res?.status()} at ${since()} ms`;
        },
        (err: Error) => {
          entry.outcome = `failed at ${since()} ms: ${err.message}`;
        },
      );
    });
    page.on('requestfailed', (r) => complaints.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    await chooseFile(page, 'customers.csv', csv);
    await expect.poll(() => page.getByTestId('file-summary').textContent()).toContain('500 rows, id column customerID');
    expect(await page.getByTestId('file-summary').textContent()).toContain('not sent: Churn');
    await page.getByRole('button', { name: 'Score 500 rows' }).click();
    await page
      .getByRole('table', { name: 'Rows per risk category' })
      .waitFor()
      .catch(async (err: Error) => {
        const progress = await page.getByTestId('progress-text').textContent();
        throw new Error(
          `${err.message}\nprogress: ${progress}\nrequests: ${JSON.stringify(predicts)}\ncomplaints: ${JSON.stringify(complaints)}`,
        );
      });
    expect(await page.getByTestId('progress-text').textContent()).toBe('500 of 500 rows');
    expect(await page.locator('#progress').evaluate((p) => (p as unknown as { value: number }).value)).toBe(500);
    // Three requests of at most 200 rows, and each one with a broken row once more without it.
    expect(predicts.length).toBeGreaterThanOrEqual(3);

    // Counts per risk category.
    const counts = await page
      .getByRole('table', { name: 'Rows per risk category' })
      .locator('tr')
      .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-category'), Number(tr.getAttribute('data-count'))]));
    const want = new Map<string, number>();
    for (const p of expected.values()) want.set(p.risk_category, (want.get(p.risk_category) ?? 0) + 1);
    want.set('(error)', Object.keys(BROKEN).length);
    expect(new Map(counts as [string, number][])).toEqual(want);

    // Every broken row listed with the API's messages for its fields.
    const listed = await page
      .getByRole('table', { name: 'Rows with errors' })
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => ({
          row: Number(tr.getAttribute('data-row')),
          issues: [...tr.querySelectorAll('li')].map((li) => [
            li.getAttribute('data-field'),
            li.textContent!.replace(/^[^:]*: /, ''),
          ]),
        })),
      );
    expect(listed.map((l) => l.row)).toEqual(Object.keys(BROKEN).map(Number));
    for (const l of listed) expect(new Map(l.issues as [string, string][])).toEqual(messages.get(l.row));
    await screenshot('file');

    // The download: every input row in order, its columns, then the answer or the error.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the scored CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('customers-scored.csv');
    const scored = parseCsv(readFileSync((await download.path())!, 'utf8'));
    expect(scored.header).toEqual([...header, 'churn_probability', 'risk_category', 'model_version', 'error']);
    expect(scored.rows).toHaveLength(500);
    scored.rows.forEach((cells, i) => {
      expect(cells.slice(0, header.length)).toEqual(rows[i]);
      const [probability, risk, version, error] = cells.slice(header.length);
      const want = expected.get(i);
      if (want) {
        expect(Number(probability)).toBe(want.churn_probability);
        expect([risk, version, error]).toEqual([want.risk_category, want.model_version, '']);
      } else {
        expect([probability, risk, version]).toEqual(['', '', '']);
        for (const [field, message] of messages.get(i)!) expect(error).toContain(`${field}: ${message}`);
      }
    });
    expect(complaints.filter((c) => !c.includes('422'))).toEqual([]);
    await page.close();
  });

  it('says which line of a malformed file is wrong, and sends nothing', async () => {
    const { page } = await app.open('file');
    const predicts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') predicts.push(r.url());
    });
    const broken = `${lines[0]}\r\n${lines[1]}\r\n7590-X,"Female,0\r\n`;
    await chooseFile(page, 'bad.csv', broken);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('line 3: a quoted field is never closed');
    expect(await page.getByRole('button', { name: /^Score/ }).count()).toBe(0);
    expect(predicts).toEqual([]);
    await page.close();
  });
});
