// What the benchmarks read off a running server: sums over its Prometheus text, and its memory
// from /proc.
import { readFileSync } from 'node:fs';

/**
 * The sum of every series of `name` whose labels include `labels` (an unlabelled series counts
 * when no labels are asked for); `missing` when no series matched.
 */
export function metricSum(text, name, labels = {}, missing = 0) {
  let sum = 0;
  let seen = false;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    if (Object.entries(labels).every(([k, v]) => (m[1] ?? '').includes(`${k}="${v}"`))) {
      sum += Number(m[2]);
      seen = true;
    }
  }
  return seen ? sum : missing;
}

/** A process's RSS and its two parts, anonymous memory (heaps, malloc) and mapped files (code), in bytes. */
export function procMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)[1]) * 1024;
    return { rss: kb('VmRSS'), rss_anon: kb('RssAnon'), rss_file: kb('RssFile') };
  } catch {
    return { rss: Number.NaN, rss_anon: Number.NaN, rss_file: Number.NaN };
  }
}
