// The overload benchmark's smoke run: capacity is measured, each offered rate is sent open loop,
// every scheduled request is accounted for (answered, timed out or not sent), and the gateway is
// alive and ready afterwards. (The latency and refusal figures are read from full runs, `node
// bench/src/overload.mjs`, not asserted: these machines are noisy.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = new URL('../../', import.meta.url).pathname;

describe('bench/src/overload.mjs --smoke', () => {
  it('measures capacity, offers 2x and 10x open loop, and accounts for every request', () => {
    const out = mkdtempSync(join(tmpdir(), 'ortline-overload-test-'));
    try {
      const r = spawnSync(
        process.execPath,
        [join(repoRoot, 'bench/src/overload.mjs'), '--smoke', '--records', '16', '--out', out],
        { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
      );
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
      expect(report.capacity.requests_per_second).toBeGreaterThan(0);
      expect(report.runs.map((run: { multiple: number }) => run.multiple)).toEqual([2, 10]);
      for (const run of report.runs) {
        expect(run.alive_after).toBe(true);
        expect(run.connection_errors).toBe(0);
        const byStatus = Object.values(run.statuses) as { count: number }[];
        expect(byStatus.reduce((a, s) => a + s.count, 0)).toBe(run.answered);
        expect(run.answered + run.timed_out + run.unsent).toBe(run.scheduled);
        expect(run.statuses['200'].count).toBeGreaterThan(0);
        expect(run.peak_rss_mib).toBeGreaterThan(0);
      }
      expect(readFileSync(join(out, 'latest.md'), 'utf8')).toContain('| 10x (');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 150_000);
});
