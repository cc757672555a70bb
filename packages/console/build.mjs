// Builds the console into dist/: the bundle and its stylesheet under dist/assets/ with a content
// hash in their names (so the gateway can serve them as immutable), and dist/index.html, the one
// page, which names them. No source maps and no inline script: the gateway's Content-Security-
// Policy allows scripts and styles from the gateway itself only.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });

const result = await build({
  entryPoints: [join(here, 'src', 'main.tsx')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

let script;
let style;
for (const [out, meta] of Object.entries(result.metafile.outputs)) {
  if (meta.entryPoint) {
    script = basename(out);
    if (meta.cssBundle) style = basename(meta.cssBundle);
  }
}
if (!script || !style) throw new Error('console build: no script or stylesheet in the esbuild output');

// Relative URLs: the console keeps working behind a proxy that mounts the gateway under a prefix.
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ortline console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/${style}">
<script type="module" src="assets/${script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The ortline console needs JavaScript. The API is documented at <a href="docs">docs</a>.</noscript>
</body>
</html>
`;
writeFileSync(join(dist, 'index.html'), html);
writeFileSync(join(dist, 'manifest.json'), `${JSON.stringify({ script, style }, null, 2)}\n`);
console.error(`console: built dist/index.html, dist/assets/${script}, dist/assets/${style}`);
