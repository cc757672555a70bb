// The reload soak's smoke run: the gateway answers every prediction while version 2 is loaded,
// canaried and unloaded, and the report carries samples and slopes. (Memory targets are read from
// full runs, `pnpm bench --parts reload`, not asserted: these machines are noisy.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = new URL('../../', import.meta.url).pathname;

describe('bench/src/reload.mjs --smoke', () => {
  it('cycles, keeps answering, and reports RSS and heap with their slopes', () => {
    const out = mkdtempSync(join(tmpdir(), 'ortline-reload-test-'));
    try {
      const r = spawnSync(
        process.execPath,
        ['--expose-gc', join(repoRoot, 'bench/src/reload.mjs'), '--smoke', '--out', out],
        {
          cwd: repoRoot,
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
      expect(report.cycles).toBe(20);
      expect(report.load.non_200).toBe(0);
      expect(report.load.answered).toBeGreaterThan(0);
      expect(report.samples.map((s: { cycle: number }) => s.cycle)).toEqual([0, 5, 10, 15, 20]);
      for (const s of report.samples) expect(s.rss).toBeGreaterThan(s.heap_used);
      expect(typeof report.slope_mib_per_100_cycles.rss).toBe('number');
      expect(typeof report.slope_mib_per_100_cycles.heap_used).toBe('number');
      expect(readFileSync(join(out, 'latest.md'), 'utf8')).toContain('| RSS |');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('refuses to run without --expose-gc (heap samples would not be comparable)', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'bench/src/reload.mjs'), '--smoke'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--expose-gc');
  });
});
