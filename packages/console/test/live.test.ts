// The Live page in Chromium: its numbers move while load runs against the gateway (predictions,
// cache hits, bad requests) and its charts are drawn; with metrics off it says the statistics are
// not available.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parity, postJson } from '../../gateway/test/helpers.js';
import { type Console, startConsole } from './harness.js';

let app: Console;
beforeAll(async () => {
  app = await startConsole();
});
afterAll(async () => {
  await app?.close();
});

/** Requests for `ms`: distinct records (misses), each again (hits), every tenth one invalid. */
async function load(url: string, ms: number): Promise<number> {
  const rows = parity().rows;
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    const features = rows[n % rows.length]!.features;
    await postJson(`${url}/v1/models/churn/predict`, features);
    await postJson(`${url}/v1/models/churn/predict`, features);
    if (n % 10 === 0) await postJson(`${url}/v1/models/churn/predict`, { ...features, tenure: -1 });
    n++;
  }
  return n;
}

const number = (text: string | null) => Number((text ?? '').replace(/[^0-9.]/g, ''));

describe('Live', () => {
  it('shows throughput, latency, errors, cache hits and batch size moving while load runs', async () => {
    const { page, complaints, screenshot } = await app.open('live');
    // Idle: the gateway has answered nothing yet.
    await expect.poll(() => page.getByTestId('live-rps').textContent(), { timeout: 5000 }).toBe('0');
    expect(await page.getByTestId('live-p50').textContent()).toBe('—');

    const running = load(app.url, 4000);
    await expect
      .poll(async () => number(await page.getByTestId('live-rps').textContent()), { timeout: 5000 })
      .toBeGreaterThan(10);
    await expect.poll(async () => number(await page.getByTestId('live-p50').textContent())).toBeGreaterThan(0);
    expect(number(await page.getByTestId('live-p99').textContent())).toBeGreaterThanOrEqual(
      number(await page.getByTestId('live-p50').textContent()),
    );
    await expect.poll(async () => number(await page.getByTestId('live-errors').textContent())).toBeGreaterThan(0);
    await expect.poll(async () => number(await page.getByTestId('live-cache').textContent())).toBeGreaterThan(20);
    await expect.poll(async () => number(await page.getByTestId('live-batch').textContent())).toBeGreaterThanOrEqual(1);
    expect(await page.locator('.chart canvas').count()).toBe(5);
    await screenshot('live');
    await running;
    // After the load, the page goes back to idle.
    await expect.poll(() => page.getByTestId('live-rps').textContent(), { timeout: 5000 }).toBe('0');
    expect(complaints.filter((c) => !c.includes('422'))).toEqual([]);
    await page.close();
  });

  it('is readable at a phone width', async () => {
    const { page, screenshot } = await app.open('live', { width: 390, height: 844 });
    await page.getByTestId('live-rps').waitFor();
    // Nothing wider than the screen: no sideways scrolling.
    expect(await page.locator('html').evaluate((html) => html.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot('live-phone');
    await page.close();
  });
});

describe('Live without metrics', () => {
  it('says the statistics are not available', async () => {
    const bare = await startConsole({ metrics: { enabled: false } });
    try {
      const { page } = await bare.open('live');
      await expect.poll(() => page.getByRole('status').textContent()).toContain('not available');
      // The rest of the console still works.
      await page.getByRole('link', { name: 'Score', exact: true }).click();
      await page.getByLabel('tenure', { exact: true }).waitFor();
      await page.close();
    } finally {
      await bare.close();
    }
  });
});
