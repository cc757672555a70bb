// The soak for one minute (CI's length; `pnpm bench --parts soak --minutes 30` for the real one):
// mixed HTTP and WebSocket load while redis-server is killed and started again. Every good request
// and frame is answered 200, every bad one with its documented status, the Redis outage is felt
// (failed calls counted) and survived, and memory, handles and fds are sampled and fitted. (The
// slopes are read from long runs, not asserted: these machines are noisy.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = new URL('../../', import.meta.url).pathname;

describe('bench/src/soak.mjs, one minute', () => {
  it('answers every good request through a Redis kill, refuses every bad one as documented, and samples memory', () => {
    const out = mkdtempSync(join(tmpdir(), 'ortline-soak-test-'));
    try {
      const r = spawnSync(
        process.execPath,
        // Another test file shares the two cores: a starved event loop would make the gateway shed
        // (pressure.test.ts tests that); here only the soak's own machinery is under test.
        [
          join(repoRoot, 'bench/src/soak.mjs'),
          ...['--minutes', '1', '--sample-seconds', '5', '--max-event-loop-delay-ms', '2000', '--out', out],
        ],
        { cwd: repoRoot, encoding: 'utf8', timeout: 180_000 },
      );
      expect(r.status, r.stderr.slice(-2000) + r.stdout.slice(-2000)).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
      expect(report.failures).toEqual([]);
      const expected: Record<string, string> = {
        json_hot: '200',
        json_new: '200',
        msgpack_new: '200',
        oip: '200',
        get: '200',
        bad_feature: '422',
        bad_json: '400',
        unknown_model: '404',
        bad_type: '415',
      };
      expect(Object.keys(report.http.by_kind).sort()).toEqual(Object.keys(expected).sort());
      for (const [kind, status] of Object.entries(expected)) {
        expect(Object.keys(report.http.by_kind[kind]), kind).toEqual([status]);
        expect(report.http.by_kind[kind][status], kind).toBeGreaterThan(0);
      }
      expect(report.ws.answered).toBe(report.ws.sent);
      expect(report.ws.answered).toBeGreaterThan(0);
      expect(report.events.map((e: { event: string }) => e.event)).toContain('redis killed (SIGKILL)');
      expect(report.events.map((e: { event: string }) => e.event)).toContain('redis started again');
      // Felt: failed calls or rows sent past it; survived: connected, then not, then again.
      expect(report.l2.errors + report.l2.skipped).toBeGreaterThan(0);
      const connected = report.samples.map((s: { l2_connected: number }) => s.l2_connected).join('');
      expect(connected).toMatch(/^1+0+1+/);
      expect(report.samples.length).toBeGreaterThanOrEqual(10);
      for (const s of report.samples) {
        expect(s.rss).toBeGreaterThan(s.heap_used);
        expect(s.heap_total).toBeGreaterThanOrEqual(s.heap_used);
        // RSS is its anonymous part (heaps, malloc) and its mapped files (code), both present.
        expect(s.rss_anon).toBeGreaterThan(s.heap_used);
        expect(s.rss_file).toBeGreaterThan(0);
        expect(Math.abs(s.rss_anon + s.rss_file - s.rss)).toBeLessThan(s.rss / 20);
        expect(s.fds).toBeGreaterThan(0);
        expect(s.l1_entries).toBeGreaterThanOrEqual(0);
      }
      // New rows fill the L1 cache as the run goes.
      expect(report.samples.at(-1).l1_entries).toBeGreaterThan(report.samples[0].l1_entries);
      expect(report.l1.max_entries_seen).toBe(
        Math.max(...report.samples.map((s: { l1_entries: number }) => s.l1_entries)),
      );
      expect(Object.keys(report.trends).sort()).toEqual([
        'external',
        'fds',
        'handles',
        'heap_total',
        'heap_used',
        'rss',
        'rss_anon',
        'rss_file',
      ]);
      expect(readFileSync(join(out, 'latest.svg'), 'utf8')).toContain('<polyline');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
