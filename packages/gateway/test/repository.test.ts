// The model repository's rule (what is a version, which one is active), on the same directory
// trees the training pipeline's tests use (testdata/routing.json), so the two sides cannot
// disagree about which model is live.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RepositoryError, readRouting, scanRepository } from '../src/registry/repository.js';
import { writeRouting } from '../src/registry/routing.js';
import { repoRoot } from './helpers.js';

interface Case {
  name: string;
  versions: string[];
  empty?: string[];
  active_file?: string;
  serving_file?: string;
  expect: { versions?: string[]; routing?: unknown; error?: boolean };
}

const { cases } = JSON.parse(readFileSync(join(repoRoot, 'testdata/routing.json'), 'utf8')) as {
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
  if (c.serving_file !== undefined) writeFileSync(join(model, 'serving.json'), c.serving_file);
  return root;
}

describe('the shared routing rule', () => {
  it('the cases cover versions, ACTIVE, serving.json and errors', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(cases.some((c) => c.expect.error && c.serving_file !== undefined)).toBe(true);
    expect(cases.some((c) => c.expect.error && c.active_file !== undefined)).toBe(true);
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
      expect(models[0]!.routing).toEqual(c.expect.routing);
    });
  }
});

describe('writeRouting', () => {
  it('writes a file the reader gives back, replacing the old one whole and leaving no temporary file', () => {
    const root = buildTree({ name: 'w', versions: ['1', '2', '3'], expect: {} });
    const model = join(root, 'm');
    const routing = { active: '2', previous: '1', canary: { version: '3', weight: 0.25 }, shadow: null };
    writeRouting(model, routing);
    expect(readRouting(model, ['1', '2', '3'])).toEqual(routing);
    writeRouting(model, { active: '3', previous: '2', canary: null, shadow: '1' });
    expect(readRouting(model, ['1', '2', '3'])).toEqual({ active: '3', previous: '2', canary: null, shadow: '1' });
    expect(readdirSync(model).sort()).toEqual(['1', '2', '3', 'serving.json']);
  });

  it('serving.json wins over an ACTIVE file left beside it', () => {
    const root = buildTree({ name: 'a', versions: ['1', '2'], active_file: '2', expect: {} });
    const model = join(root, 'm');
    writeRouting(model, { active: '1', previous: '2', canary: null, shadow: null });
    expect(scanRepository(root).models[0]!.routing.active).toBe('1');
  });
});
