// The bulk benchmark's smoke run: ortline score and the pandas + onnxruntime peer score the same
// generated file, as CSV and as Parquet, reject the same broken rows, and agree on every answer
// (the run fails if they do not). Speed is read from full runs (`node bench/src/bulk.mjs`), not
// asserted here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = new URL('../../', import.meta.url).pathname;

describe('bench/src/bulk.mjs --smoke', () => {
  it('scores one file in both formats with both systems, which agree row by row and reject the same rows', () => {
    const out = mkdtempSync(join(tmpdir(), 'ortline-bulk-test-'));
    try {
      const r = spawnSync(process.execPath, [join(repoRoot, 'bench/src/bulk.mjs'), '--smoke', '--out', out], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
      expect(report.rows).toBe(20_000);
      expect(report.broken_rows).toBe(2);
      expect(Object.keys(report.formats)).toEqual(['csv', 'parquet']);
      for (const f of Object.values(report.formats) as {
        agreement: { max_abs_probability_difference: number };
        systems: Record<string, { rows_per_s: number; max_rss_mib: number }>;
      }[]) {
        expect(f.agreement).toMatchObject({ rows: 19_998, rejects: { ortline: 2, peer: 2 } });
        expect(f.agreement.max_abs_probability_difference).toBeLessThanOrEqual(1e-6);
        for (const s of Object.values(f.systems)) {
          expect(s.rows_per_s).toBeGreaterThan(0);
          expect(s.max_rss_mib).toBeGreaterThan(0);
        }
      }
      expect(readFileSync(join(out, 'latest.md'), 'utf8')).toMatch(/parquet: ortline over the peer: \*\*[\d.]+x\*\*/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 150_000);
});
