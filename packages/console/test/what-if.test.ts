// "What would change it" in Chromium: after the README's customer is scored, every single-feature
// change is scored in one request, ranked lowest first, each probability equal to the API's for
// that record, and the card's fixed features listed apart.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { card } from '../../gateway/test/helpers.js';
import { apiPredict, fillForm, readmeCustomer } from './customers.js';
import { type Console, startConsole } from './harness.js';

let app: Console;
beforeAll(async () => {
  app = await startConsole();
});
afterAll(async () => {
  await app?.close();
});

interface Row {
  feature: string;
  to: string | number;
  probability: number;
}

async function rows(page: Page, table: string): Promise<Row[]> {
  return page
    .getByRole('table', { name: table, includeHidden: true })
    .locator('tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => ({
        feature: tr.getAttribute('data-feature')!,
        to: JSON.parse(tr.getAttribute('data-to')!),
        probability: Number(tr.getAttribute('data-probability')),
      })),
    );
}

describe('What would change it', () => {
  it('scores every single-feature change in one request; the ranking and probabilities match the API', async () => {
    const customer = readmeCustomer();
    const { page, complaints, screenshot } = await app.open('score');
    await fillForm(page, customer);
    await page.getByRole('button', { name: 'Score' }).click();
    const base = Number(await page.getByTestId('answer').locator('.probability').getAttribute('data-value'));

    const predicts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes('/predict')) predicts.push(r.url());
    });
    await page.getByRole('link', { name: 'What would change it →' }).click();
    // The full list is folded away (<details>): found among hidden elements too.
    await page
      .getByRole('table', { name: 'Every change the business can make', includeHidden: true })
      .waitFor({ state: 'attached' });
    expect(predicts).toEqual([`${app.url}/v1/models/churn/versions/1/predict`]);
    expect(Number(await page.getByTestId('base-probability').textContent())).toBeCloseTo(base, 4);

    const fixedNames = (card() as unknown as { fixed_features: string[] }).fixed_features;
    const all = await rows(page, 'Every change the business can make');
    const top = await rows(page, 'Changes that lower the risk');
    const fixed = await rows(page, 'Changes of fixed features');

    // Every categorical alternative and numeric step: Contract has two others, gender one.
    expect(all.filter((r) => r.feature === 'Contract').map((r) => r.to)).toEqual(
      expect.arrayContaining(['One year', 'Two year']),
    );
    expect(fixed.filter((r) => r.feature === 'gender').map((r) => r.to)).toEqual(['Male']);
    expect(all.some((r) => fixedNames.includes(r.feature))).toBe(false);
    expect(fixed.every((r) => fixedNames.includes(r.feature))).toBe(true);
    // A numeric feature without an upper bound is stepped around its value: tenure 1 goes down to
    // 0 and up by steps, not only by percentages (which round back to 1).
    const tenure = fixed.filter((r) => r.feature === 'tenure').map((r) => r.to as number);
    expect(tenure.sort((a, b) => a - b)).toEqual([0, 2, 11, 101]);
    expect(all.map((r) => r.probability)).toEqual([...all.map((r) => r.probability)].sort((a, b) => a - b));
    expect(top.length).toBeGreaterThan(0);
    expect(top.every((r) => r.probability < base)).toBe(true);
    expect(top).toEqual(all.slice(0, top.length));

    // The API's answers for the same records.
    const changed = [...all, ...fixed];
    const api = await apiPredict(
      app.url,
      changed.map((r) => ({ ...customer, [r.feature]: r.to })),
      '1',
    );
    expect(api.status).toBe(200);
    changed.forEach((r, i) => {
      expect(r.probability, `${r.feature} = ${r.to}`).toBe(api.json.predictions[i].churn_probability);
    });
    await screenshot('what-if');
    expect(complaints).toEqual([]);
    await page.close();
  });

  it('asks for a customer first when none was scored', async () => {
    const { page } = await app.open('what-if');
    await expect.poll(() => page.locator('main').textContent()).toContain('Score a customer first');
    await page.close();
  });
});
