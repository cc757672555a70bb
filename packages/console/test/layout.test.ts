// Every page of the console at a desktop and at a phone width: nothing wider than the screen, every
// form control labelled, a screenshot of each; and the Score form used with the keyboard alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeCustomer } from './customers.js';
import { type Console, startConsole } from './harness.js';

const PAGES = ['score', 'what-if', 'file', 'models', 'live'];
const WIDTHS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
];

let app: Console;
beforeAll(async () => {
  app = await startConsole();
});
afterAll(async () => {
  await app?.close();
});

describe('layout', () => {
  for (const size of WIDTHS)
    it(`every page fits a ${size.name} (${size.width} px) and labels every control`, async () => {
      for (const path of PAGES) {
        const { page, complaints, screenshot } = await app.open(path, size);
        await page.locator('main h1').waitFor();
        // Let the page's first fetches land.
        await page.waitForLoadState('networkidle');
        expect(await page.locator('html').evaluate((html) => html.scrollWidth), path).toBeLessThanOrEqual(size.width);
        const unlabelled = await page
          .locator('input, select, textarea')
          .evaluateAll((els) =>
            els
              .filter(
                (el) => (el as unknown as { labels: unknown[] }).labels.length === 0 && !el.getAttribute('aria-label'),
              )
              .map((el) => el.outerHTML),
          );
        expect(unlabelled, path).toEqual([]);
        await screenshot(`${path}-${size.name}`);
        expect(complaints, path).toEqual([]);
        await page.close();
      }
    });
});

describe('keyboard', () => {
  it('reaches the pages from the first Tab and scores the customer with Enter', async () => {
    const { page } = await app.open('score');
    await page.getByLabel('tenure', { exact: true }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Score');
    for (const [name, value] of Object.entries(readmeCustomer())) {
      const control = page.getByLabel(name, { exact: true });
      await control.focus();
      if ((await control.evaluate((el) => el.tagName)) === 'SELECT') await control.selectOption(String(value));
      else await page.keyboard.type(String(value));
    }
    await page.getByLabel('TotalCharges', { exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('answer').waitFor();
    // The answer is announced to screen readers: it lives in a polite live region.
    expect(await page.getByRole('region', { name: 'Answer' }).getAttribute('aria-live')).toBe('polite');
    await page.close();
  });
});
