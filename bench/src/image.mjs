#!/usr/bin/env node
// What the container costs: the same gateway, on the same models, as a process on the host and
// as the image scripts/image.sh builds, run with runc (host networking, read-only root), measured
// side by side in one run. Per round, each is started fresh (start-to-ready: from spawning it to
// the first 200 from /readyz), warmed up, loaded with wrk, then stopped with SIGTERM (its exit
// code is recorded); the order alternates each round. Figures are medians over rounds; the ratio
// (container / host) is taken within each round, then the median. Also the server's own CPU time
// per request (from /proc, runc's process tree for the container).
//
//   node bench/src/image.mjs [--image DIR] [--duration 8] [--rounds 3] [--connections 64] [--out DIR] [--smoke]
//
// --image: scripts/image.sh's output folder (default dist/image; built first when it has no
// image.json). Needs root (runc), wrk, umoci. Nothing is asserted: the target is a ratio >= 0.95.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { churnParity, freePort, machineInfo, median, repoRoot } from './common.mjs';
import { containerBundle, unpackImage, waitReady } from './container.mjs';
import { treeCpuSeconds } from './cpu.mjs';
import { load, wrkVersion } from './load.mjs';
import { writeMix } from './payloads.mjs';

const { values: args } = parseArgs({
  options: {
    image: { type: 'string', default: join(repoRoot, 'dist/image') },
    duration: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    out: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
const duration = args.smoke ? 1 : Number(args.duration);
const rounds = args.smoke ? 1 : Number(args.rounds);
const connections = Number(args.connections);
const warmup = args.smoke ? 1 : 2;
if (!(duration > 0) || !(rounds > 0) || !(connections > 0)) {
  console.error(
    'usage: image.mjs [--image DIR] [--duration S>0] [--rounds N>0] [--connections N>0] [--out DIR] [--smoke]',
  );
  process.exit(2);
}
if (!wrkVersion()) {
  console.error('image.mjs: wrk is not installed (Debian package "wrk")');
  process.exit(2);
}
const log = (...a) => console.error('[image]', ...a);
const outDir =
  args.out ??
  (args.smoke ? mkdtempSync(join(tmpdir(), 'ortline-bench-image-')) : join(repoRoot, 'bench/results/image'));
mkdirSync(outDir, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'ortline-bench-image-run-'));
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

if (!existsSync(join(args.image, 'image.json'))) {
  log(`no image in ${args.image}: building it (scripts/image.sh)`);
  const r = spawnSync('bash', [join(repoRoot, 'scripts/image.sh'), '--out', args.image], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
const image = JSON.parse(readFileSync(join(args.image, 'image.json'), 'utf8'));
const { bundle } = unpackImage(join(args.image, image.archives.oci), image.image, join(scratch, 'image'));
const runcState = join(scratch, 'runc-state');

const SYSTEMS = [
  {
    name: 'host process',
    spawn: (port) =>
      spawn(process.execPath, [join(repoRoot, 'packages/cli/bin/ortline.js'), 'serve'], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          MODELS_DIR: join(repoRoot, 'models'),
        },
      }),
  },
  {
    name: 'container (runc)',
    spawn: (port, id) => {
      const dir = containerBundle(bundle, join(scratch, id), { port });
      return spawn('runc', ['--root', runcState, 'run', '--bundle', dir, id], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    },
  },
];

const { parity } = churnParity();
const mix = writeMix(scratch, 'parity', parity);
const perRound = SYSTEMS.map(() => []);
for (let r = 0; r < rounds; r++) {
  for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
    const s = SYSTEMS[i];
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const started = performance.now();
    const proc = s.spawn(port, `ortline-bench-${process.pid}-${r}-${i}`);
    children.add(proc);
    const exited = new Promise((res) => proc.once('exit', (code) => res(code)));
    const readyMs = await waitReady(url, started, proc);
    const common = { tool: 'wrk', url: `${url}/v1/models/churn/predict`, connections, timeout: 5, mix, scratch };
    await load({ ...common, duration: warmup, seed: 100 + r });
    const cpu0 = treeCpuSeconds(proc.pid);
    const res = await load({ ...common, duration, seed: r });
    res.server_us_per_request = ((treeCpuSeconds(proc.pid) - cpu0) * 1e6) / res.requests;
    if (res.errors.total > 0) throw new Error(`${s.name}: ${JSON.stringify(res.errors)}`);
    proc.kill('SIGTERM');
    res.exit_code = await exited;
    children.delete(proc);
    res.ready_ms = Math.round(readyMs);
    perRound[i].push(res);
    log(
      `round ${r + 1}/${rounds} ${s.name}: ready in ${res.ready_ms} ms, ${Math.round(res.rps)} req/s, ${res.server_us_per_request.toFixed(1)} µs CPU/request, p99 ${res.latency_ms.p99} ms, exit ${res.exit_code}`,
    );
  }
}

const results = SYSTEMS.map((s, i) => {
  const runs = perRound[i];
  return {
    system: s.name,
    rps: Math.round(median(runs.map((x) => x.rps))),
    p50_ms: median(runs.map((x) => x.latency_ms.p50)),
    p99_ms: median(runs.map((x) => x.latency_ms.p99)),
    server_us_per_request: Math.round(median(runs.map((x) => x.server_us_per_request)) * 10) / 10,
    ready_ms: median(runs.map((x) => x.ready_ms)),
    exit_codes: runs.map((x) => x.exit_code),
    rounds_rps: runs.map((x) => Math.round(x.rps)),
  };
});
const ratio = median(perRound[1].map((c, r) => c.rps / perRound[0][r].rps));
const report = {
  created: new Date().toISOString(),
  command: `node bench/src/image.mjs --duration ${duration} --rounds ${rounds} --connections ${connections}${args.smoke ? ' --smoke' : ''}`,
  machine: machineInfo(),
  wrk: wrkVersion(),
  image: { name: image.image, digest: image.digest, compressed_bytes: image.compressedBytes },
  load: { connections, duration_s: duration, warmup_s: warmup, rounds, mix: 'the 300 parity rows in turn' },
  results,
  container_to_host_rps: Math.round(ratio * 1000) / 1000,
};
const stamp = report.created.replace(/[:.]/g, '-');
const text = `${JSON.stringify(report, null, 2)}\n`;
writeFileSync(join(outDir, `${stamp}.json`), text);
writeFileSync(join(outDir, 'latest.json'), text);
log(`container / host throughput: ${report.container_to_host_rps}x; written to ${outDir}`);
