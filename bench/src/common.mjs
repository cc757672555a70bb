// Shared by the benchmarks: where things are, what machine this is, small statistics.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanRepository } from '@ortline/gateway';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A TCP port free on loopback now (closed again before it resolves). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** models/<name>/<version> that the gateway serves: the registry's own rule (ACTIVE, else the highest). */
export function activeModelDir(name) {
  const model = scanRepository(join(repoRoot, 'models')).models.find((m) => m.name === name);
  if (!model) throw new Error(`no model "${name}" under ${join(repoRoot, 'models')}`);
  return model.versions.find((v) => v.version === model.routing.active).dir;
}

/** The pure-Rust floor (crates/ortline-core/examples/floor.rs), built on first use. */
export function floorBinary() {
  const bin = join(repoRoot, 'target/release/examples/floor');
  const r = spawnSync('cargo', ['build', '--quiet', '--release', '--example', 'floor', '-p', 'ortline-core'], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0 || !existsSync(bin))
    throw new Error('could not build the Rust floor (cargo build --release --example floor -p ortline-core)');
  return bin;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function machineInfo() {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform}-${process.arch}`,
  };
}

export function versions() {
  const pkg = (p) => JSON.parse(readFileSync(join(repoRoot, p), 'utf8')).version;
  return {
    node: process.version,
    'onnxruntime-node': pkg('bench/node_modules/onnxruntime-node/package.json'),
    tinybench: pkg('bench/node_modules/tinybench/package.json'),
    '@ortline/scorer': pkg('packages/scorer/package.json'),
  };
}

/** The active churn model's directory, card and parity rows (sklearn's probabilities). */
export function churnParity() {
  const dir = activeModelDir('churn');
  return {
    dir,
    card: JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')),
    parity: JSON.parse(readFileSync(join(dir, 'parity.json'), 'utf8')),
  };
}

/** One v1 request body per parity row: the id field the gateway echoes, then the 19 features. */
export function recordBody(row) {
  return JSON.stringify({ customer_id: row.customerID, ...row.features });
}

/**
 * Writes one run's result as `<stamp>.json` and `latest.json`, with the same for each extra file
 * (`{ md: text, svg: text }`): the stamp is the result's `created` time, usable in a file name.
 */
export function writeRun(outDir, result, extra = {}) {
  mkdirSync(outDir, { recursive: true });
  const stamp = result.created.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  for (const prefix of [stamp, 'latest']) {
    writeFileSync(join(outDir, `${prefix}.json`), `${JSON.stringify(result, null, 2)}\n`);
    for (const [ext, text] of Object.entries(extra)) writeFileSync(join(outDir, `${prefix}.${ext}`), text);
  }
}
