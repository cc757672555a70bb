// The HTTP load generator: wrk (the Debian package) when it is installed, else autocannon, each in
// its own process, so the figures do not depend on this process's event loop. Both are closed-loop
// (each connection sends its next request when the previous answer arrives) and report latency of
// the answers that came; requests that got no answer before the timeout are counted as errors.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reapedChildrenCpuSeconds } from './cpu.mjs';
import { wrkScript } from './payloads.mjs';

const driver = fileURLToPath(new URL('./autocannon-driver.mjs', import.meta.url));
/** The wrk binary: $WRK, else wrk on the PATH. */
const WRK = process.env.WRK || 'wrk';

export function wrkVersion() {
  const r = spawnSync(WRK, ['--version'], { encoding: 'utf8' });
  if (r.error) return undefined;
  return /wrk\s+(\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

const running = new Set();

/** Stops a load generator still running (on SIGINT/SIGTERM of the suite), by its pid. */
export function stopLoad() {
  for (const p of running) p.kill('SIGKILL');
}

function run(cmd, argv) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(p);
    p.on('exit', () => running.delete(p));
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

function ms(s) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s ?? '');
  if (!m) return NaN;
  const v = Number(m[1]);
  return { us: v / 1000, ms: v, s: v * 1000, m: v * 60000 }[m[2]];
}

/**
 * One closed-loop load run. Returns answers/s counting 2xx only (`rps`), all answers/s, latency
 * percentiles in ms, error counts and the generator's own CPU seconds.
 */
export async function load({ tool, url, connections, duration, timeout, mix, scratch, seed }) {
  const cpu0 = reapedChildrenCpuSeconds();
  const t0 = performance.now();
  const r =
    tool === 'wrk'
      ? await loadWrk({ url, connections, duration, timeout, mix, scratch, seed })
      : await loadAutocannon({ url, connections, duration, timeout, mix, scratch });
  r.wall_s = (performance.now() - t0) / 1000;
  r.loadgen_cpu_s = reapedChildrenCpuSeconds() - cpu0;
  r.tool = tool;
  return r;
}

async function loadWrk({ url, connections, duration, timeout, mix, scratch, seed }) {
  const threads = Math.min(2, connections);
  const script = join(scratch, `wrk-${process.pid}.lua`);
  // Enough unique cold rows for 150,000 answers/s over the whole run, per thread.
  const coldCount = mix.cold ? Math.ceil((150_000 * (duration + 1) * (1 - mix.share)) / threads) : 0;
  writeFileSync(script, wrkScript(mix, threads, seed, coldCount));
  const { code, out, err } = await run(WRK, [
    `-t${threads}`,
    `-c${connections}`,
    `-d${duration}s`,
    `--timeout`,
    `${timeout}s`,
    '--latency',
    '-s',
    script,
    url,
  ]);
  if (code !== 0 || !/requests in/.test(out)) throw new Error(`wrk failed (${code}): ${err || out}`);
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  const requests = Number(total[1]);
  const seconds = ms(`${total[2]}${total[3]}`) / 1000;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const [connect, read, write, timeouts] = sock ? sock.slice(1).map(Number) : [0, 0, 0, 0];
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const pct = (p) => ms(new RegExp(`\\s${p}%\\s+(\\S+)`).exec(out)?.[1]);
  return {
    rps: (requests - non2xx) / seconds,
    answers_per_s: requests / seconds,
    requests,
    seconds,
    latency_ms: { p50: pct(50), p90: pct(90), p99: pct(99) },
    errors: { connect, read, write, timeout: timeouts, non2xx, total: connect + read + write + timeouts + non2xx },
  };
}

async function loadAutocannon({ url, connections, duration, timeout, mix, scratch }) {
  const config = join(scratch, `autocannon-${process.pid}.json`);
  writeFileSync(config, JSON.stringify({ url, connections, duration, timeout, mix }));
  const { code, out, err } = await run(process.execPath, [driver, config]);
  if (code !== 0) throw new Error(`autocannon failed (${code}): ${err}`);
  const r = JSON.parse(out);
  const seconds = r.duration;
  const ok = r['2xx'];
  const answers = ok + r.non2xx;
  return {
    rps: ok / seconds,
    answers_per_s: answers / seconds,
    requests: answers,
    seconds,
    latency_ms: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99 },
    errors: {
      connect: 0,
      read: r.errors - r.timeouts,
      write: 0,
      timeout: r.timeouts,
      non2xx: r.non2xx,
      total: r.errors + r.non2xx,
    },
  };
}
