// The stream benchmark's smoke run: `ortline stream` against a real broker answers every record
// offered, and the report carries the rate and latency per offered rate. Speed is read from full
// runs, not asserted here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = new URL('../../', import.meta.url).pathname;

describe('bench/src/stream.mjs --smoke', () => {
  it('offers records at a fixed rate and reports every answer with its latency', () => {
    const out = mkdtempSync(join(tmpdir(), 'ortline-stream-bench-test-'));
    try {
      const r = spawnSync(process.execPath, [join(repoRoot, 'bench/src/stream.mjs'), '--smoke', '--out', out], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 150_000,
      });
      expect(r.status, r.stderr.slice(-3000)).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
      expect(report.results).toHaveLength(1);
      const [run] = report.results;
      expect(run.offered_per_s).toBe(1000);
      expect(run.missing).toBe(0);
      expect(run.answered).toBe(run.records);
      expect(run.p50_ms).toBeGreaterThan(0);
      expect(run.p99_ms).toBeGreaterThanOrEqual(run.p50_ms);
      expect(run.max_ms).toBeGreaterThanOrEqual(run.p99_ms);
      expect(readFileSync(join(out, 'latest.md'), 'utf8')).toContain('| offered/s | answered/s |');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
