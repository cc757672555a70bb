// /openapi.json and /docs: Swagger UI served from the swagger-ui-dist package on disk (no CDN).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GatewayError } from '../errors.js';
import { Exchange } from '../http/exchange.js';
import { buildOpenApi } from '../openapi.js';
import type { Router, ServerParts } from './parts.js';

// A Map, not an object: a file name such as __proto__ must find nothing.
const ASSETS: ReadonlyMap<string, string> = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'application/javascript; charset=utf-8'],
  ['swagger-ui-standalone-preset.js', 'application/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
  ['favicon-16x16.png', 'image/png'],
]);

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ortline gateway API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-ui-standalone-preset.js"></script>
<script>
window.onload = () => {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
};
</script>
</body>
</html>
`;

export function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

export function mountDocs(router: Router, parts: ServerParts): void {
  if (!parts.config.docs.enabled) return;
  const route = parts.metrics.route('docs');
  let openapi: string | undefined;
  router.get('/openapi.json', (res, req) => {
    const ex = new Exchange(res, req, parts.ctx, route, false);
    if (!parts.registry) {
      ex.fail(new GatewayError('MODEL_NOT_READY', 'models are still loading'));
      return;
    }
    openapi ??= JSON.stringify(
      buildOpenApi({
        registry: parts.registry,
        version: parts.version,
        admin: parts.config.admin.token !== null,
        metrics: parts.metrics.enabled,
        docs: true,
        console: parts.config.console.enabled,
        overloadStatus: parts.ctx.overloadStatus,
        docsAssets: [...ASSETS.keys()],
        consoleAssets: parts.consoleAssets,
      }),
    );
    ex.sendJson(200, openapi);
  });
  router.get('/docs', (res, req) =>
    new Exchange(res, req, parts.ctx, route, false).sendRaw(200, 'text/html; charset=utf-8', INDEX_HTML),
  );
  router.get('/docs/', (res, req) =>
    new Exchange(res, req, parts.ctx, route, false).sendRaw(200, 'text/html; charset=utf-8', INDEX_HTML),
  );

  // Read once, on first use: most deployments never open the docs.
  const dir = swaggerUiDir();
  const cache = new Map<string, Buffer>();
  router.get('/docs/:file', (res, req) => {
    const ex = new Exchange(res, req, parts.ctx, route, false);
    const file = req.getParameter(0);
    const type = ASSETS.get(file);
    if (type === undefined) {
      ex.fail(new GatewayError('ROUTE_NOT_FOUND', `no docs asset "${file}"`, { path: `/docs/${file}` }));
      return;
    }
    let body = cache.get(file);
    if (!body) {
      body = readFileSync(join(dir, file));
      cache.set(file, body);
    }
    ex.sendRaw(200, type, body, ['cache-control', 'public, max-age=86400']);
  });
}
