// The gateway serves the console: one page with a strict Content-Security-Policy, assets cached
// for a year under names that change with their content, nothing when `console.enabled` is off;
// in a real browser the page runs under that policy without a single complaint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledChurn, startInProcessOn } from '../../gateway/test/helpers.js';
import { type Console, startConsole } from './harness.js';

let consoleApp: Console;
beforeAll(async () => {
  consoleApp = await startConsole();
});
afterAll(async () => {
  await consoleApp?.close();
});

describe('the console at /', () => {
  it('is one HTML page under a strict CSP that names only hashed assets of this gateway', async () => {
    const r = await fetch(`${consoleApp.url}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('no-cache');
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const html = await r.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere
    const assets = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toHaveLength(2);
    for (const a of assets) {
      expect(a).toMatch(/^assets\/main-[A-Z0-9]{8}\.(js|css)$/);
      const asset = await fetch(`${consoleApp.url}/${a}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(asset.headers.get('content-type')).toMatch(a.endsWith('.js') ? /^application\/javascript/ : /^text\/css/);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(500);
    }
  });

  it('answers an unknown asset with the 404 error body', async () => {
    const r = await fetch(`${consoleApp.url}/assets/main-NOPE.js`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('runs in Chromium under its CSP: every page link works and nothing is complained about', async () => {
    const { page, complaints } = await consoleApp.open('');
    const links = page.getByRole('navigation', { name: 'Pages' }).getByRole('link');
    const titles = await links.allTextContents();
    expect(titles.length).toBeGreaterThan(0);
    for (const title of titles) {
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: title, exact: true }).click();
      await expect.poll(() => page.locator('h1').textContent()).toBe(title);
      await expect.poll(() => page.title()).toBe(`${title} · ortline console`);
    }
    expect(complaints).toEqual([]);
    await page.close();
  });
});

describe('console.enabled off', () => {
  it('leaves / to the 404 answer', async () => {
    const g = await startInProcessOn({ '1': bundledChurn('1') }, { active: '1' }, { console: { enabled: false } });
    try {
      const r = await fetch(`${g.url}/`);
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
      expect((await fetch(`${g.url}/v1/models`)).status).toBe(200);
    } finally {
      await g.close();
    }
  });
});
