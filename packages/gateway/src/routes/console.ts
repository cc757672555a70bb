// The web console (packages/console): one page at / and its hashed assets under /assets/, read
// into memory once at start. The page is revalidated on every load and the assets, whose names
// change with their content, are cached for a year. The Content-Security-Policy allows scripts,
// styles and requests to this gateway only, and no inline script or style element.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { GatewayError } from '../errors.js';
import { Exchange } from '../http/exchange.js';
import type { Router, ServerParts } from './parts.js';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

const PAGE_HEADERS = [
  'content-security-policy',
  CONSOLE_CSP,
  'cache-control',
  'no-cache',
  'x-content-type-options',
  'nosniff',
  'referrer-policy',
  'no-referrer',
];
const ASSET_HEADERS = ['cache-control', 'public, max-age=31536000, immutable', 'x-content-type-options', 'nosniff'];

interface Built {
  readonly page: Buffer;
  readonly assets: ReadonlyMap<string, { readonly type: string; readonly body: Buffer }>;
}

/** The console's build output directory (packages/console/dist). */
export function consoleDistDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@ortline/console/package.json')), 'dist');
}

function readBuilt(dir: string): Built | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const assets = new Map<string, { type: string; body: Buffer }>();
  for (const file of readdirSync(join(dir, 'assets'))) {
    const type = TYPES[extname(file)];
    if (type !== undefined) assets.set(file, { type, body: readFileSync(join(dir, 'assets', file)) });
  }
  return { page: readFileSync(join(dir, 'index.html')), assets };
}

export function mountConsole(router: Router, parts: ServerParts): void {
  if (!parts.config.console.enabled) return;
  const route = parts.metrics.route('console');
  const dir = consoleDistDir();
  const built = readBuilt(dir);
  parts.consoleAssets = built ? [...built.assets.keys()] : [];
  if (!built)
    parts.log.warn({ dir }, 'console: assets not built; / answers 404 CONSOLE_NOT_BUILT until the set-up builds them');

  router.get('/', (res, req) => {
    const ex = new Exchange(res, req, parts.ctx, route, false);
    if (!built) {
      ex.fail(new GatewayError('CONSOLE_NOT_BUILT', `the console's assets are not built (no ${dir}/index.html)`));
      return;
    }
    ex.sendRaw(200, 'text/html; charset=utf-8', built.page, PAGE_HEADERS);
  });
  router.get('/assets/:file', (res, req) => {
    const ex = new Exchange(res, req, parts.ctx, route, false);
    const file = req.getParameter(0);
    const asset = built?.assets.get(file);
    if (!asset) {
      ex.fail(new GatewayError('ROUTE_NOT_FOUND', `no console asset "${file}"`, { path: `/assets/${file}` }));
      return;
    }
    ex.sendRaw(200, asset.type, asset.body, ASSET_HEADERS);
  });
}
