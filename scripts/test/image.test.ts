// The container image as users get it: built by scripts/image.sh (no engine, no base-image
// registry), then run with runc and with podman, and sent real requests on loopback.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sh, unpackImage } from '../../bench/src/container.mjs';
import { one, RELEASE, render } from '../../charts/test/helpers.js';
import { loadUntilClosed } from '../../packages/gateway/test/drain-load.js';
import { bundledChurn, freePort, repoRoot } from '../../packages/gateway/test/helpers.js';
import { RedisServer } from '../../packages/gateway/test/redis.js';
import { Batcher, FeatureSchema, Model } from '../../packages/scorer/dist/index.js';
import { Podman } from './podman.js';
import { RuncContainer } from './runc.js';

const UID = 10001;
/** The Node version scripts/image.sh pins. */
const NODE_VERSION = /^NODE_VERSION=(\S+)$/m.exec(readFileSync(join(repoRoot, 'scripts/image.sh'), 'utf8'))![1]!;
const SOURCE = 'https://example.invalid/ortline';
const work = mkdtempSync(join(tmpdir(), 'ortline-image-'));
const out = join(work, 'out');
let summary: {
  image: string;
  digest: string;
  compressedBytes: number;
  layers: unknown[];
  archives: { oci: string; docker: string };
  sbom: string;
};
let bundle: string;
let rootfs: string;
let config: { config: Record<string, any> };
let manifest: { annotations: Record<string, string>; layers: unknown[] };
const containers: RuncContainer[] = [];

beforeAll(() => {
  sh('bash', [join(repoRoot, 'scripts/image.sh'), '--out', out, '--source', SOURCE, '--node-base'], {
    timeout: 900_000,
  });
  summary = JSON.parse(readFileSync(join(out, 'image.json'), 'utf8'));
  const unpacked = unpackImage(join(out, summary.archives.oci), summary.image, join(work, 'image'));
  bundle = unpacked.bundle;
  rootfs = join(bundle, 'rootfs');
  const blob = (digest: string) => readFileSync(join(unpacked.layout, 'blobs', ...digest.split(':')), 'utf8');
  manifest = JSON.parse(blob(summary.digest));
  config = JSON.parse(blob((manifest as any).config.digest));
}, 900_000);

afterAll(async () => {
  for (const c of containers) await c.remove();
  rmSync(work, { recursive: true, force: true });
});

async function start(options: Parameters<typeof RuncContainer.start>[2] = {}): Promise<RuncContainer> {
  const c = await RuncContainer.start(bundle, join(work, 'runc'), options);
  containers.push(c);
  return c;
}

/** The chart's gateway container, rendered with `set` and values files. */
function gatewayContainer(set: string[] = [], values: string[] = []): { image: string; lifecycle: any } {
  const deployment = one(render({ set, values }).objects, 'Deployment', RELEASE) as any;
  return deployment.spec.template.spec.containers.find((c: { name: string }) => c.name === 'gateway');
}

/** Every path under `dir`, relative to it, without following symbolic links. */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const path = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? [path, ...walk(dir, path)] : [path];
  });
}

async function predictReadmeExample(url: string): Promise<Response> {
  return fetch(`${url}/v1/models/churn/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(readmeExample().body),
  });
}

/** The README's example request body and the answer it says comes back. */
function readmeExample(): { body: Record<string, unknown>; answer: Record<string, unknown> } {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const body = JSON.parse(/-d '(\{[\s\S]*?\})'/.exec(readme)![1]!);
  const answer = JSON.parse(/It answers `(\{.*?\})`/.exec(readme)![1]!);
  return { body, answer };
}

describe('the image', () => {
  it('is under 90 MB compressed in three layers, labelled, and runs as a non-root uid through tini', () => {
    expect(summary.compressedBytes).toBeLessThan(90e6);
    expect(manifest.layers).toHaveLength(3);
    const c = config.config;
    expect(c.User).toBe(`${UID}:${UID}`);
    expect(c.Entrypoint).toEqual(['/usr/bin/tini', '--', '/usr/local/bin/node', '/app/bin/ortline.js']);
    expect(c.Cmd).toEqual(['serve']);
    expect(Object.keys(c.ExposedPorts)).toEqual(['8080/tcp']);
    const version = JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8')).version;
    const revision = sh('git', ['-C', repoRoot, 'rev-parse', 'HEAD']).trim();
    for (const labels of [c.Labels, manifest.annotations])
      expect(labels).toMatchObject({
        'org.opencontainers.image.version': version,
        'org.opencontainers.image.revision': expect.stringMatching(new RegExp(`^${revision}(-dirty)?$`)),
        'org.opencontainers.image.source': SOURCE,
        'org.opencontainers.image.licenses': 'Apache-2.0',
      });
    expect(summary.image).toBe(`ortline/gateway:${version}`);
    // What the chart deploys by default is this image, and values-local-registry.yaml names it too.
    expect(gatewayContainer().image).toBe(summary.image);
    expect(gatewayContainer([], ['values-local-registry.yaml']).image).toBe(`localhost:5000/${summary.image}`);
  });

  it('holds what serving needs and nothing else: no shell, package manager, compiler or source maps', () => {
    const files = walk(rootfs);
    for (const absent of ['bin/sh', 'bin/bash', 'usr/bin/dpkg', 'usr/bin/apt', 'usr/bin/gcc', 'usr/bin/cargo'])
      expect(files, absent).not.toContain(absent);
    expect(files.filter((f) => /\.(map|d\.ts|d\.mts)$/.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('var/lib/apt') || f.startsWith('var/cache'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('dev/'))).toEqual([]);
    // Nothing writable by the app's user, and no setuid binaries.
    const risky = files.filter((f) => {
      const s = lstatSync(join(rootfs, f));
      return !s.isSymbolicLink() && f !== 'tmp' && (s.uid !== 0 || (s.mode & 0o4002) !== 0);
    });
    expect(risky).toEqual([]);
    // The addon, the one ONNX Runtime library it loads, and uWebSockets.js for Node 20 on x64 only.
    expect(files.filter((f) => f.endsWith('.node')).map((f) => f.split('/').pop())).toEqual(
      expect.arrayContaining(['ortline.linux-x64-gnu.node', 'uws_linux_x64_115.node']),
    );
    expect(files.filter((f) => /uws_.*\.node$/.test(f)).map((f) => f.split('/').pop())).toEqual([
      'uws_linux_x64_115.node',
    ]);
    expect(files.filter((f) => f.endsWith('libonnxruntime.so.1'))).toHaveLength(1);
    expect(files).toContain('app/models/churn/1/model.onnx');
    expect(files.filter((f) => f.startsWith('app/models/training'))).toEqual([]);
    // What went in from Debian is recorded where image scanners look for it.
    expect(readdirSync(join(rootfs, 'var/lib/dpkg/status.d'))).toEqual(
      expect.arrayContaining(['libc6', 'libstdc++6', 'libgcc-s1', 'tini']),
    );
  });
});

/**
 * name@version of every npm package the gateway needs in production, as pnpm resolved and
 * installed them (optional packages of other platforms are resolved but not installed).
 */
function npmProductionPackages(): { name: string; version: string }[] {
  const r = spawnSync('pnpm', ['--filter', '@ortline/cli...', 'list', '--prod', '--depth', 'Infinity', '--json'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  const seen = new Map<string, { name: string; version: string }>();
  const walk = (deps: Record<string, { from?: string; version: string; path: string; dependencies?: any }> = {}) => {
    for (const [name, d] of Object.entries(deps)) {
      if (!existsSync(d.path)) continue;
      const pkg = { name: d.from ?? name, version: d.version };
      const key = `${pkg.name}@${pkg.version}`;
      if (seen.has(key)) continue;
      seen.set(key, pkg);
      walk(d.dependencies);
    }
  };
  for (const project of JSON.parse(r.stdout)) walk(project.dependencies);
  return [...seen.values()];
}

describe('a second build', () => {
  it('from the same inputs gives the same image, layer for layer', () => {
    const again = join(work, 'again');
    sh('bash', [join(repoRoot, 'scripts/image.sh'), '--out', again, '--source', SOURCE], { timeout: 900_000 });
    const second = JSON.parse(readFileSync(join(again, 'image.json'), 'utf8'));
    expect(second.layers).toEqual(summary.layers);
    expect(second.digest).toBe(summary.digest);
    rmSync(again, { recursive: true, force: true });
  }, 900_000);
});

describe('its software bill of materials', () => {
  it('lists Node, ONNX Runtime, the Debian packages, the addon crates and every npm production dependency', () => {
    const bom = JSON.parse(readFileSync(join(out, summary.sbom), 'utf8'));
    expect(bom).toMatchObject({ bomFormat: 'CycloneDX', metadata: { component: { name: 'ortline/gateway' } } });
    type Component = { name: string; version?: string; purl?: string; licenses?: unknown[] };
    const components: Component[] = bom.components;
    const byPurl = (prefix: string) => components.filter((c) => c.purl?.startsWith(prefix));
    expect(byPurl('pkg:generic/node@')).toMatchObject([
      { version: NODE_VERSION, licenses: [{ license: { id: 'MIT' } }] },
    ]);
    const ortNode = JSON.parse(
      readFileSync(join(repoRoot, 'packages/scorer/node_modules/onnxruntime-node/package.json'), 'utf8'),
    );
    expect(byPurl('pkg:generic/onnxruntime@')).toMatchObject([{ version: ortNode.version }]);
    for (const deb of ['libc6', 'libstdc++6', 'tini'])
      expect(byPurl(`pkg:deb/debian/${encodeURIComponent(deb)}@`).length, deb).toBe(1);
    const cargoToml = readFileSync(join(repoRoot, 'crates/ortline-core/Cargo.toml'), 'utf8');
    const ortCrate = /^ort = \{ version = "=([^"]+)"/m.exec(cargoToml)![1];
    expect(byPurl('pkg:cargo/ort@')).toMatchObject([
      { version: ortCrate, licenses: [{ expression: 'MIT OR Apache-2.0' }] },
    ]);
    const npm = byPurl('pkg:npm/');
    const missing = npmProductionPackages().filter(
      (p) =>
        !npm.some(
          (c) => c.name === p.name && (p.version.startsWith('link:') || c.version === p.version) && c.licenses?.length,
        ),
    );
    expect(missing).toEqual([]);
  });
});

describe('run with runc', () => {
  it('is ready within 5 s and answers the README example as the in-process scorer does', async () => {
    const c = await start();
    const readyMs = await c.ready();
    expect(readyMs).toBeLessThan(5000);
    // uWebSockets.js found its native build (it falls back to a slow pure-JS server when not).
    expect(c.lines.filter((l) => /fallback|not compatible/i.test(l))).toEqual([]);
    const { body, answer } = readmeExample();
    const r = await predictReadmeExample(c.url);
    expect(r.status).toBe(200);
    const got = (await r.json()) as Record<string, unknown>;

    const model = await Model.load(join(bundledChurn('1'), 'model.onnx'));
    const card = JSON.parse(readFileSync(join(bundledChurn('1'), 'model.json'), 'utf8'));
    const batcher = new Batcher(model, FeatureSchema.fromModel(model, card), {
      output: { name: 'probabilities', index: 1 },
    });
    const { customer_id: _id, ...features } = body;
    const [p] = await batcher.predict([features]);
    await batcher.close();
    model.close();
    expect(got.churn_probability).toBe(p);
    const { prediction_id: _p, ...rest } = answer;
    expect(got).toMatchObject(rest);
  });

  it('runs every process as the non-root uid, on a read-only root; writes only where a volume is mounted', async () => {
    const logs = join(work, 'traffic-log');
    mkdirSync(logs);
    sh('chown', [`${UID}:${UID}`, logs]);
    const c = await start({
      args: ['serve', '--traffic-log-sample-rate', '1'],
      env: { TRAFFIC_LOG_DIR: '/var/log/ortline' },
      mounts: [{ destination: '/var/log/ortline', source: logs, bind: true }],
    });
    await c.ready();
    const pids = c.pids();
    expect(pids.length).toBeGreaterThanOrEqual(2); // tini and node
    for (const pid of pids) {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(/^Uid:\s+(.*)$/m.exec(status)![1]!.split(/\s+/)).toEqual(Array(4).fill(String(UID)));
      expect(/^Gid:\s+(.*)$/m.exec(status)![1]!.split(/\s+/)).toEqual(Array(4).fill(String(UID)));
    }
    expect(readFileSync(`/proc/${pids[1]}/cmdline`, 'utf8').split('\0')[0]).toBe('/usr/local/bin/node');
    // The chart's preStop hook runs in this image (no shell, no sleep), and waits as long as set.
    const preStop = gatewayContainer(['shutdown.preStopSleepSeconds=1']).lifecycle.preStop.exec.command;
    const before = performance.now();
    expect(c.exec(preStop).status).toBe(0);
    expect(performance.now() - before).toBeGreaterThanOrEqual(1000);
    for (const path of ['/app/x', '/tmp/x', '/x']) {
      const r = c.exec(['/usr/local/bin/node', '-e', `require('fs').writeFileSync('${path}', 'x')`]);
      expect(r.status, path).not.toBe(0);
      expect(r.stderr, path).toMatch(/EROFS/);
    }
    const r = await predictReadmeExample(c.url);
    expect(r.status).toBe(200);
    // The traffic log went to the mounted folder, the one writable place.
    await expect.poll(() => readdirSync(logs).length, { timeout: 5000 }).toBeGreaterThan(0);
    expect(readdirSync(logs)[0]).toMatch(/^traffic-.*\.jsonl/);
  });

  it('on SIGTERM under load answers everything in flight and exits 0', async () => {
    const c = await start();
    await c.ready();
    let fire!: () => void;
    const warmedUp = new Promise<void>((r) => (fire = r));
    const load = loadUntilClosed(c.url, 32, () => fire());
    await warmedUp;
    load.signal();
    c.signal('TERM');
    await load.all;
    expect(load.results.failed).toEqual([]);
    expect(load.results.ok).toBeGreaterThan(32 * 5);
    expect(await c.exited).toBe(0);
    expect(c.lines.some((l) => l.includes('"drained":true'))).toBe(true);
  });

  it('uses Redis on loopback when configured: a second container answers from it', async () => {
    const redis = await RedisServer.start();
    try {
      const ask = async (c: RuncContainer) => {
        const r = await predictReadmeExample(c.url);
        expect(r.status).toBe(200);
        return r.headers.get('x-ortline-cache');
      };
      const first = await start({ env: { REDIS_URL: redis.url } });
      await first.ready();
      expect(await ask(first)).toBe('miss');
      // The store is written off the request path.
      await expect.poll(() => Number(sh('redis-cli', ['-p', String(redis.port), 'dbsize'])), { timeout: 5000 }).toBe(1);
      const second = await start({ env: { REDIS_URL: redis.url } });
      await second.ready();
      expect(await ask(second)).toBe('l2');
      expect(await ask(second)).toBe('l1');
      const metrics = await (await fetch(`${second.url}/metrics`)).text();
      expect(metrics).toMatch(/ortline_cache_hits_total\{tier="l2"[^}]*\} [1-9]/);
    } finally {
      await redis.stop();
    }
  });
});

describe('the image benchmark (bench/src/image.mjs)', () => {
  it('runs host and container side by side (smoke): both serve the load and exit 0', () => {
    const results = join(work, 'bench');
    sh(
      process.execPath,
      [join(repoRoot, 'bench/src/image.mjs'), '--smoke', '--image', out, '--out', results, '--connections', '8'],
      { timeout: 120_000 },
    );
    const report = JSON.parse(readFileSync(join(results, 'latest.json'), 'utf8'));
    expect(report.image.digest).toBe(summary.digest);
    expect(report.results.map((r: { system: string }) => r.system)).toEqual(['host process', 'container (runc)']);
    for (const r of report.results) {
      expect(r.rps).toBeGreaterThan(0);
      expect(r.exit_codes).toEqual([0]);
      expect(r.ready_ms).toBeLessThan(5000);
    }
    expect(report.container_to_host_rps).toBeGreaterThan(0);
  }, 120_000);
});

describe('run with podman', () => {
  let podman: Podman;
  beforeAll(() => {
    podman = new Podman(join(work, 'podman'));
  });
  afterAll(() => podman.cleanup());

  /**
   * Runs `image` with a published loopback port and a read-only root, checks it is ready, answers
   * the README example as the README says, runs as the chart's uid, then stops it: exit code 0
   * after draining.
   */
  async function serveAndStop(image: string, name: string, whileUp: () => void = () => {}): Promise<void> {
    const port = await freePort();
    podman.cmd(['run', '-d', '--name', name, '--read-only', '-p', `127.0.0.1:${port}:8080`, image]);
    const url = `http://127.0.0.1:${port}`;
    const status = () =>
      fetch(`${url}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
    await expect.poll(status, { timeout: 10_000, interval: 50 }).toBe(200);
    const r = await predictReadmeExample(url);
    expect(r.status).toBe(200);
    const { answer } = readmeExample();
    expect(((await r.json()) as Record<string, unknown>).churn_probability).toBe(answer.churn_probability);
    expect(podman.cmd(['inspect', name, '--format', '{{.Config.User}}']).trim()).toBe(`${UID}:${UID}`);
    whileUp();
    podman.cmd(['stop', '--time', '10', name]);
    expect(podman.cmd(['inspect', name, '--format', '{{.State.ExitCode}}']).trim()).toBe('0');
    expect(podman.cmd(['logs', name])).toMatch(/"drained":true/);
  }

  it('loads both archives as one image; serves on a published port, read-only, and stops with exit code 0', async () => {
    // Docker's archive names the image as Docker would (its default registry before the name).
    expect(podman.load(join(out, summary.archives.docker))).toContain(`/${summary.image}`);
    expect(podman.load(join(out, summary.archives.oci))).toContain(`localhost/${summary.image}`);
    const ids = podman.cmd(['images', '--format', '{{.Id}}']).trim().split('\n');
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
    await serveAndStop(`localhost/${summary.image}`, `ortline-test-${process.pid}-archive`);
  }, 120_000);

  it('builds the Dockerfile with no registry (the Debian base from image.sh), and that image serves too', async () => {
    const base = `ortline/node-base:${NODE_VERSION}`;
    expect(podman.load(join(out, `ortline-node-base-${NODE_VERSION}.oci.tar`))).toContain(`localhost/${base}`);
    const built = 'localhost/ortline/gateway-dockerfile:test';
    // The app stage is the image above (prebuilt /app), so the Rust and Node build stages, which
    // need images from a registry, are skipped; the runtime stage runs as written.
    const log = podman.cmd([
      'build',
      '--pull=never',
      '--format',
      'docker',
      '--build-arg',
      `RUNTIME_BASE=localhost/${base}`,
      '--build-arg',
      `APP=localhost/${summary.image}`,
      '--tag',
      built,
      '--file',
      join(repoRoot, 'Dockerfile'),
      repoRoot,
    ]);
    expect(log).toMatch(/useradd/);
    const [inspected] = JSON.parse(podman.cmd(['inspect', built]));
    expect(inspected.Config.Entrypoint).toEqual(['node', '/app/bin/ortline.js']);
    expect(inspected.Healthcheck.Test[0]).toBe('CMD');
    const name = `ortline-test-${process.pid}-dockerfile`;
    // The Dockerfile's HEALTHCHECK passes once the gateway listens (checked before it is stopped).
    await serveAndStop(built, name, () => expect(podman.cmd(['healthcheck', 'run', name]).trim()).toBe(''));
  }, 300_000);
});
