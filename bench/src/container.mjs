// The image that scripts/image.sh built, run with runc as a container engine would run it: the
// OCI archive unpacked by umoci into a bundle (rootfs and runc's config.json), then one bundle
// folder per container whose config points at that rootfs. Host networking (the sandbox gives a
// network namespace no route; a published port needs an engine), a read-only root, no terminal.
// Used by the image tests (scripts/test/runc.ts) and the image benchmark (bench/src/image.mjs).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs a command to its end; its stdout, or an error with everything it printed. */
export function sh(cmd, args, { timeout = 300_000, env } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, env: env ? { ...process.env, ...env } : undefined });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.error ?? ''}${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * Milliseconds from `started` (a performance.now() time) to the first 200 from `url`/readyz;
 * throws when `proc` exits first or after `timeoutMs`.
 */
export async function waitReady(url, started, proc, timeoutMs = 30_000) {
  while (performance.now() - started < timeoutMs) {
    if (proc.exitCode !== null) throw new Error(`exited ${proc.exitCode} before it was ready`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`not ready within ${timeoutMs} ms`);
}

/** Extracts the OCI archive into `dir`/layout and unpacks image `ref` into `dir`/bundle. */
export function unpackImage(archive, ref, dir) {
  const layout = join(dir, 'layout');
  const bundle = join(dir, 'bundle');
  mkdirSync(layout, { recursive: true });
  sh('tar', ['-xf', archive, '-C', layout]);
  sh('umoci', ['unpack', '--image', `${layout}:${ref}`, bundle]);
  return { layout, bundle };
}

/**
 * Writes a container's config.json into `dir`, from the unpacked `bundle`'s: its rootfs read-only,
 * the host's network, `env` over the image's (PORT and HOST=127.0.0.1 first), `args` after the
 * entrypoint in place of the image's CMD, and `mounts` (a writable bind of a host folder, or a
 * tmpfs). Returns `dir`, the bundle to give `runc run --bundle`.
 */
export function containerBundle(bundle, dir, { port, env = {}, args, mounts = [] }) {
  mkdirSync(dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.root = { path: join(bundle, 'rootfs'), readonly: true };
  config.process.terminal = false;
  config.linux.namespaces = config.linux.namespaces.filter((n) => n.type !== 'network');
  const vars = new Map(config.process.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  for (const [k, v] of Object.entries({ PORT: String(port), HOST: '127.0.0.1', ...env })) vars.set(k, v);
  config.process.env = [...vars].map(([k, v]) => `${k}=${v}`);
  if (args) {
    const entry = config.process.args.slice(0, config.process.args.indexOf('/app/bin/ortline.js') + 1);
    config.process.args = [...entry, ...args];
  }
  for (const m of mounts)
    config.mounts.push(
      m.bind
        ? { destination: m.destination, type: 'bind', source: m.source, options: ['rbind', 'rw'] }
        : { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=16m'] },
    );
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}
