// The monitoring benchmark's smoke run: every configuration answers without an error, the traffic
// log configurations really write rows, and the report carries a ratio per configuration.
// (Throughput targets are read from full runs, `node bench/src/monitor.mjs`, never asserted.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = new URL('../../', import.meta.url).pathname;

describe('bench/src/monitor.mjs --smoke', () => {
  it('measures drift off, drift on, and the traffic log at 1 % and 100 %', () => {
    const out = mkdtempSync(join(tmpdir(), 'ortline-monitor-test-'));
    try {
      const r = spawnSync(process.execPath, [join(repoRoot, 'bench/src/monitor.mjs'), '--smoke', '--out', out], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 180_000,
      });
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
      const by = Object.fromEntries(report.results.map((x: { config: string }) => [x.config, x]));
      expect(Object.keys(by)).toEqual([
        'drift off',
        'drift on',
        'drift on, traffic log 1 %',
        'drift on, traffic log 100 %',
      ]);
      expect(by['drift off'].ratio_to_drift_off).toBe(1);
      for (const x of report.results) expect(x.rps).toBeGreaterThan(0);
      // Every row logged at 100 %: at least as many as one second of load at a few thousand req/s.
      const all = by['drift on, traffic log 100 %'].traffic_log;
      expect(all.written + all.dropped).toBeGreaterThan(1000);
      expect(by['drift on, traffic log 1 %'].traffic_log.written).toBeLessThan(all.written);
      expect(readFileSync(join(out, 'latest.md'), 'utf8')).toContain('| drift on, traffic log 1 % |');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
