// The in-process benchmark in smoke mode: every contender starts, answers the parity rows within
// the model's tolerance, and the report is written. No timing is asserted (noisy machines).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'ortline-bench-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('runs every contender, agrees with the training pipeline, and writes the report', () => {
  const r = spawnSync(process.execPath, ['bench/src/inprocess.mjs', '--smoke', '--batches', '1,32', '--out', out], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
  const contenders = new Set(report.results.map((x: { contender: string }) => x.contender));
  expect([...contenders].sort()).toEqual(['onnxruntime-node', 'ortline run', 'ortline runSync', 'rust ort']);
  for (const x of report.results) {
    expect(x.max_abs_diff_vs_sklearn).toBeLessThanOrEqual(1e-5);
    expect(x.rows_per_s).toBeGreaterThan(0);
  }
  expect(report.results.map((x: { batch: number }) => x.batch)).toEqual([1, 1, 1, 1, 32, 32, 32, 32]);
  expect(readFileSync(join(out, 'latest.md'), 'utf8')).toContain('| 32 | rust ort |');
}, 300_000);
