// The Score page in Chromium against a real gateway: the README's customer typed in gets the
// API's probability, risk and version; a bad value gets the API's own message next to its field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiPredict, fillForm, readmeCustomer } from './customers.js';
import { type Console, startConsole } from './harness.js';

let app: Console;
beforeAll(async () => {
  app = await startConsole();
});
afterAll(async () => {
  await app?.close();
});

describe('Score', () => {
  it("shows the API's probability, risk and version for the README's customer", async () => {
    const customer = readmeCustomer();
    const api = await apiPredict(app.url, [customer]);
    expect(api.status).toBe(200);
    const expected = api.json.predictions[0];

    const { page, complaints, screenshot } = await app.open('score');
    await fillForm(page, customer);
    await page.getByRole('button', { name: 'Score' }).click();
    const answer = page.getByTestId('answer');
    await answer.waitFor();
    expect(Number(await answer.locator('.probability').getAttribute('data-value'))).toBe(expected.churn_probability);
    expect(await answer.locator('.risk').textContent()).toBe(expected.risk_category);
    expect(await answer.locator('.version').textContent()).toBe(expected.model_version);
    await screenshot('score');
    expect(complaints).toEqual([]);
    await page.close();
  });

  it('pins the version picked', async () => {
    const customer = readmeCustomer();
    const { page } = await app.open('score');
    await page.getByLabel('Version').selectOption('2');
    await fillForm(page, customer);
    await page.getByRole('button', { name: 'Score' }).click();
    await expect.poll(() => page.getByTestId('answer').locator('.version').textContent()).toBe('2');
    await page.close();
  });

  it("shows the API's field message next to the field, for a value out of range and one that is no number", async () => {
    const bad = { ...readmeCustomer(), tenure: -5, MonthlyCharges: 'lots' };
    const api = await apiPredict(app.url, [bad]);
    expect(api.status).toBe(422);
    const messages = new Map<string, string>(
      api.json.error.details.issues.map((i: { field: string; message: string }) => [
        i.field,
        i.message.replace(/^row \d+: /, ''),
      ]),
    );
    expect([...messages.keys()].sort()).toEqual(['MonthlyCharges', 'tenure']);

    const { page, complaints, screenshot } = await app.open('score');
    await fillForm(page, bad);
    await page.getByRole('button', { name: 'Score' }).click();
    for (const [field, message] of messages) {
      const error = page.locator(`#field-${field}-error`);
      await expect.poll(() => error.textContent()).toBe(message);
      expect(await page.getByLabel(field, { exact: true }).getAttribute('aria-invalid')).toBe('true');
    }
    expect(await page.getByTestId('answer').count()).toBe(0);
    await screenshot('score-errors');
    // Fixed, the same form scores.
    await page.getByLabel('tenure', { exact: true }).fill('5');
    await page.getByLabel('MonthlyCharges', { exact: true }).fill('70.5');
    await page.getByRole('button', { name: 'Score' }).click();
    await page.getByTestId('answer').waitFor();
    expect(await page.locator('.field .error').count()).toBe(0);
    expect(complaints.filter((c) => !c.includes('422'))).toEqual([]);
    await page.close();
  });
});
