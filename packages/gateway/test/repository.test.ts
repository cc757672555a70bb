// The model repository's rule (what is a version, which one is active), on the same directory
// trees the training pipeline's tests use (testdata/active-version.json), so the two sides cannot
// disagree about which model is live.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RepositoryError, scanRepository } from '../src/registry/repository.js';
import { repoRoot } from './helpers.js';

interface Case {
  name: string;
  versions: string[];
  empty?: string[];
  active_file?: string;
  expect: { versions?: string[]; active?: string; error?: boolean };
}

const { cases } = JSON.parse(readFileSync(join(repoRoot, 'testdata/active-version.json'), 'utf8')) as {
  cases: Case[];
};

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A repository holding one model, "m", laid out as the case says. */
function buildTree(c: Case): string {
  const root = mkdtempSync(join(tmpdir(), 'ortline-repo-'));
  roots.push(root);
  const model = join(root, 'm');
  mkdirSync(model);
  for (const v of c.versions) {
    mkdirSync(join(model, v));
    writeFileSync(join(model, v, 'model.onnx'), '');
  }
  for (const v of c.empty ?? []) mkdirSync(join(model, v));
  if (c.active_file !== undefined) writeFileSync(join(model, 'ACTIVE'), c.active_file);
  return root;
}

describe('the shared active-version rule', () => {
  it('the cases cover versions, ACTIVE and errors', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
    expect(cases.some((c) => c.expect.error)).toBe(true);
  });

  for (const c of cases) {
    it(c.name, () => {
      const root = buildTree(c);
      if (c.expect.error) {
        expect(() => scanRepository(root)).toThrow(RepositoryError);
        return;
      }
      const { models, ignored } = scanRepository(root);
      if (c.expect.versions!.length === 0) {
        expect(models).toEqual([]);
        expect(ignored).toEqual(['m']);
        return;
      }
      expect(models.map((m) => m.name)).toEqual(['m']);
      expect(models[0]!.versions.map((v) => v.version)).toEqual(c.expect.versions);
      expect(models[0]!.active).toBe(c.expect.active);
    });
  }
});
