// The low-load latency benchmark's smoke run: the gateway and the echo server each answer every
// request of one connection with 200 (the run fails otherwise), and the report carries both
// distributions and their ratio. Speed is read from full runs, not asserted here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = new URL('../../', import.meta.url).pathname;

describe('bench/src/latency.mjs --smoke', () => {
  it('times one connection against the gateway and the echo server, and reports their ratio', () => {
    const out = mkdtempSync(join(tmpdir(), 'ortline-latency-test-'));
    try {
      const r = spawnSync(process.execPath, [join(repoRoot, 'bench/src/latency.mjs'), '--smoke', '--out', out], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
      expect(report.results.map((s: { system: string }) => s.system)).toEqual(['ortline', 'uws-echo']);
      for (const s of report.results as { p50_us: number; p90_us: number; p99_us: number }[]) {
        expect(s.p50_us).toBeGreaterThan(0);
        expect(s.p90_us).toBeGreaterThanOrEqual(s.p50_us);
        expect(s.p99_us).toBeGreaterThanOrEqual(s.p90_us);
      }
      expect(report.ratio).toBeCloseTo(report.results[0].p50_us / report.results[1].p50_us, 6);
      expect(readFileSync(join(out, 'latest.md'), 'utf8')).toMatch(/over the echo server's: \*\*[\d.]+x\*\*/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 90_000);

  it('fails when the gateway answers anything but 200', () => {
    // A body the gateway refuses (422: no features) must fail the run, not be timed as an answer.
    const out = mkdtempSync(join(tmpdir(), 'ortline-latency-test-'));
    try {
      const argv = [join(repoRoot, 'bench/src/latency.mjs'), '--smoke', '--out', out, '--body', '{"customer_id":"x"}'];
      const r = spawnSync(process.execPath, argv, { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/status 422/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 90_000);
});
