// The Models page in Chromium: versions and roles, the model card's metrics and thresholds, drift
// per feature equal to the API's; with the admin token typed in (kept in memory only) the states
// and the routing actions (canary, promote, roll back) act on the real gateway; panels whose
// endpoint does not answer say so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { card, parity, postJson } from '../../gateway/test/helpers.js';
import { type Console, startConsole } from './harness.js';

const TOKEN = 'console-test-token';
let app: Console;
beforeAll(async () => {
  app = await startConsole({ admin: { token: TOKEN }, drift: { minRows: 100 } });
});
afterAll(async () => {
  await app?.close();
});

const admin = async (url: string) =>
  (await (
    await fetch(`${url}/admin/v1/models/churn`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).json()) as any;

describe('Models', () => {
  it('shows the versions, the model card and the drift of the chosen version as the API gives them', async () => {
    // Enough rows for a PSI.
    const rows = parity().rows.map((r) => r.features);
    expect((await postJson(`${app.url}/v1/models/churn/predict`, { instances: rows })).status).toBe(200);
    const drift = (await (await fetch(`${app.url}/v1/models/churn/drift?version=1`)).json()) as any;

    const { page, complaints, screenshot } = await app.open('models');
    const versions = page.getByRole('table', { name: 'Versions' });
    await versions.locator('tr[data-version="2"]').waitFor();
    expect(await versions.locator('tr[data-version="1"] .role').textContent()).toBe('active');
    expect(await versions.locator('tr[data-version="1"] .state').textContent()).toBe('needs the admin token');

    const metrics = page.getByRole('table', { name: 'Test metrics' });
    const rocAuc = (card() as any).metrics.test.roc_auc as number;
    expect(await metrics.locator('tr[data-metric="roc_auc"] td').textContent()).toBe(rocAuc.toFixed(4));
    const thresholds = await page.getByRole('table', { name: 'Risk thresholds' }).locator('tr').allTextContents();
    expect(thresholds).toEqual(['Low0 up to 0.29', 'Mediumabove 0.29 up to 0.5', 'Highabove 0.5 up to 1']);

    const table = page.getByRole('table', { name: 'Drift per feature' });
    await table.waitFor();
    const shown = await table
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-feature'), tr.getAttribute('data-psi')]));
    expect(shown).toHaveLength(drift.features.length);
    for (const [name, psi] of shown) {
      const api = drift.features.find((f: { name: string }) => f.name === name);
      expect(Number(psi)).toBe(api.psi);
    }
    await screenshot('models');
    expect(complaints).toEqual([]);
    await page.close();
  });

  it('with the admin token: states, a canary, a promotion and a rollback, each as the API then reports it', async () => {
    const { page, complaints } = await app.open('models');
    const versions = page.getByRole('table', { name: 'Versions' });
    await versions.locator('tr[data-version="2"]').waitFor();

    // A wrong token: the gateway's answer, nothing unlocked.
    await page.getByLabel('Admin token').fill('wrong');
    await page.getByRole('button', { name: 'Use' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('UNAUTHORIZED');
    expect(await page.getByRole('button', { name: 'Make active' }).count()).toBe(0);

    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Use' }).click();
    await expect.poll(() => versions.locator('tr[data-version="2"] .state').textContent()).toBe('ready');

    await page.getByLabel('Canary % for 2').fill('25');
    await page.getByRole('button', { name: 'Canary' }).click();
    await expect.poll(() => versions.locator('tr[data-version="2"] .role').textContent()).toBe('canary 25 %');
    expect((await admin(app.url)).routing.canary).toEqual({ version: '2', weight: 0.25 });

    await page.getByRole('button', { name: 'Make active' }).click();
    await expect.poll(() => versions.locator('tr[data-version="2"] .role').textContent()).toBe('active');
    expect((await admin(app.url)).routing).toMatchObject({ active: '2', previous: '1' });
    // The picker follows: the public description names the new active version.
    await expect.poll(() => page.getByLabel('Version').locator('option').first().textContent()).toContain('active 2');

    await page.getByRole('button', { name: 'Roll back to 1' }).click();
    await expect.poll(() => versions.locator('tr[data-version="1"] .role').textContent()).toContain('active');
    expect((await admin(app.url)).routing.active).toBe('1');

    // The token lives in the page's memory only: nothing in storage or cookies.
    expect(await page.evaluate('localStorage.length + sessionStorage.length + document.cookie.length')).toBe(0);
    expect(complaints.filter((c) => !c.includes('401'))).toEqual([]);
    await page.close();
  });
});

describe('Models when drift is not watched and admin is off', () => {
  it('says so in the drift and versions panels, and shows the rest', async () => {
    const bare = await startConsole({ drift: { enabled: false } });
    try {
      const { page } = await bare.open('models');
      await expect.poll(() => page.getByTestId('drift-unavailable').textContent()).toContain('drift.enabled is off');
      await page.getByRole('table', { name: 'Test metrics' }).waitFor();
      await page.getByLabel('Admin token').fill('anything');
      await page.getByRole('button', { name: 'Use' }).click();
      await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('ADMIN_DISABLED');
      await page.close();
    } finally {
      await bare.close();
    }
  });
});
