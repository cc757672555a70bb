// The figures derived from raw measurements: CPU use around one load, and ratios between systems
// taken round by round.
import { median } from './common.mjs';
import { machineBusySeconds, treeCpuSeconds } from './cpu.mjs';

/** CPU counters (and the gateway's batch and cache counters) around one measurement. */
export async function snapshot(s, srv) {
  const snap = { cpu: treeCpuSeconds(srv.pid), busy: machineBusySeconds(), self: process.cpuUsage() };
  if (s.gateway) {
    try {
      const text = await (await fetch(`${srv.url}/metrics`)).text();
      const sum = (re) => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
      snap.batchSum = sum(/^ortline_batch_rows_sum\{[^}]*\} (\S+)$/gm);
      snap.batchCount = sum(/^ortline_batch_rows_count\{[^}]*\} (\S+)$/gm);
      snap.hits = sum(/^ortline_cache_hits_total\{[^}]*tier="l1"[^}]*\} (\S+)$/gm);
      snap.misses = sum(/^ortline_cache_misses_total\{[^}]*tier="l1"[^}]*\} (\S+)$/gm);
    } catch {}
  }
  // Read the CPU counters again after the scrape so the scrape is not billed to the run.
  snap.cpu = treeCpuSeconds(srv.pid);
  snap.busy = machineBusySeconds();
  snap.self = process.cpuUsage();
  return snap;
}

/** CPU use between two snapshots around one load `r`: server, load generator, everything else. */
export function cpuUsage(a, b, r) {
  // The generator's own run time (wrk's init, which formats the requests, is idle time for the server).
  const wall = r.seconds ?? r.wall_s;
  const server = b.cpu - a.cpu;
  const self = (b.self.user - a.self.user + b.self.system - a.self.system) / 1e6;
  const busy = b.busy - a.busy;
  const out = {
    server_cpu_s: server,
    server_cpu_cores: server / wall,
    loadgen_cpu_cores: r.loadgen_cpu_s / wall,
    // Everything else the machine did meanwhile: other people's work on a shared box.
    other_cpu_cores: Math.max(0, (busy - server - r.loadgen_cpu_s - (r.requests !== undefined ? self : 0)) / wall),
  };
  if (r.requests !== undefined) out.requests_per_cpu_s = (r.rps * r.seconds) / server;
  if (a.batchCount !== undefined && b.batchCount !== undefined) {
    const n = b.batchCount - a.batchCount;
    out.mean_batch_rows = n > 0 ? (b.batchSum - a.batchSum) / n : undefined;
    const lookups = b.hits - a.hits + (b.misses - a.misses);
    if (lookups > 0) out.l1_hit_ratio = (b.hits - a.hits) / lookups;
  }
  return out;
}

/**
 * Per level: the gateway's requests/s over each other system's (`rps`), and its requests per
 * server CPU-second over theirs (`per_cpu`), round by round, then the median.
 */
export function ratios(samples, list, levels) {
  const out = {};
  const gateways = list.filter((s) => s.gateway).map((s) => s.id);
  const ratio = (a, b, f) => {
    const per = a
      .map((x, i) => (x.failed || !b[i] || b[i].failed || !(f(b[i]) > 0) ? NaN : f(x) / f(b[i])))
      .filter(Number.isFinite);
    return per.length ? median(per) : null;
  };
  for (const g of gateways) {
    out[g] = {};
    for (const c of levels) {
      out[g][c] = {};
      for (const s of list) {
        if (s.id === g) continue;
        const a = samples.get(`${g}@${c}`) ?? [];
        const b = samples.get(`${s.id}@${c}`) ?? [];
        out[g][c][s.id] = ratio(a, b, (m) => m.rps);
        out[g][c].per_cpu ??= {};
        out[g][c].per_cpu[s.id] = ratio(a, b, (m) => m.requests_per_cpu_s);
      }
    }
  }
  return out;
}

/**
 * Least-squares line through points [{x, y}]: slope, intercept and the residuals' standard
 * deviation (the noise a slope is judged against).
 */
export function fitLine(points) {
  const k = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / k;
  const my = points.reduce((a, p) => a + p.y, 0) / k;
  const num = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  const slope = den === 0 ? 0 : num / den;
  const intercept = my - slope * mx;
  const sd = Math.sqrt(points.reduce((a, p) => a + (p.y - intercept - slope * p.x) ** 2, 0) / Math.max(1, k - 2));
  return { slope, intercept, sd };
}

/** Least-squares slope of y over x. */
export const slope = (points) => fitLine(points).slope;
