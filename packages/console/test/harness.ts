// The console's end-to-end harness: a real gateway in this process over the bundled churn
// versions, and Debian's Chromium opening its console. Every page load records what the browser
// complained about (console errors, uncaught exceptions, Content-Security-Policy violations), so a
// test can assert that there was nothing.
import type { Browser, Page } from 'playwright-core';
import type { GatewayConfigInput } from '../../gateway/src/index.js';
import { artifactPath, launchChromium } from '../../gateway/test/browser.js';
import { bundledChurn, startInProcessOn } from '../../gateway/test/helpers.js';

export interface Console {
  readonly url: string;
  readonly browser: Browser;
  /** A new page at the console's `#/path`, with its complaints collected. */
  open(path: string, viewport?: { width: number; height: number }): Promise<OpenPage>;
  close(): Promise<void>;
}

export interface OpenPage {
  readonly page: Page;
  /** Console errors, page errors and CSP violations seen so far. */
  readonly complaints: string[];
  screenshot(name: string): Promise<void>;
}

export async function startConsole(
  overrides: GatewayConfigInput = {},
  versions: Readonly<Record<string, string>> = { '1': bundledChurn('1'), '2': bundledChurn('2') },
  serving: unknown = { active: '1' },
): Promise<Console> {
  const gateway = await startInProcessOn(versions, serving, overrides);
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (err) {
    await gateway.close();
    throw err;
  }
  return {
    url: gateway.url,
    browser,
    async open(path, viewport = { width: 1280, height: 900 }) {
      const page = await browser.newPage({ viewport, acceptDownloads: true });
      // Playwright waits without limit by default; a bounded wait fails naming what it waited
      // for, well before the test's own timeout would fail it naming nothing.
      page.setDefaultTimeout(15_000);
      const complaints: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') complaints.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => complaints.push(`page error: ${e.message}`));
      await page.goto(`${gateway.url}/#/${path}`);
      return {
        page,
        complaints,
        screenshot: async (name) => {
          await page.screenshot({ path: artifactPath(`console-${name}.png`), fullPage: true });
        },
      };
    },
    async close() {
      await browser.close();
      await gateway.close();
    },
  };
}
