// A model version's lifecycle in the registry, with the real churn model: the gate (a broken
// model.onnx, a card that does not fit the graph, parity rows that do not reproduce), routing
// changes written to serving.json, rollback, and unloading that drains what was handed over.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics/index.js';
import { ModelRegistry } from '../src/registry/registry.js';
import { churnDir, parity } from './helpers.js';

const FILES = ['model.onnx', 'model.json', 'parity.json'];

const roots: string[] = [];
const registries: ModelRegistry[] = [];
afterEach(async () => {
  await Promise.allSettled(registries.splice(0).map((r) => r.close()));
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A repository with churn versions copied from the bundled one; `edit` may spoil a version's files. */
function repo(versions: string[], edit: (dir: string, version: string) => void = () => {}): string {
  const root = mkdtempSync(join(tmpdir(), 'ortline-lifecycle-'));
  roots.push(root);
  for (const v of versions) addVersion(root, v, edit);
  return root;
}

function addVersion(root: string, v: string, edit: (dir: string, version: string) => void = () => {}): void {
  const dir = join(root, 'churn', v);
  mkdirSync(dir, { recursive: true });
  for (const f of FILES) copyFileSync(join(churnDir(), f), join(dir, f));
  edit(dir, v);
}

async function open(root: string): Promise<ModelRegistry> {
  const config = resolveConfig({ overrides: { modelsDir: root, log: { level: 'silent' } } });
  const metrics = createMetrics({ enabled: false, defaultMetrics: false, models: () => [], wsPending: () => 0 });
  const r = await ModelRegistry.load(config, metrics, createLogger(config));
  registries.push(r);
  return r;
}

const spoil = {
  onnx: (dir: string) => writeFileSync(join(dir, 'model.onnx'), 'not an onnx graph'),
  card: (dir: string) => {
    const card = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    card.features[0].name = 'gender_renamed';
    writeFileSync(join(dir, 'model.json'), JSON.stringify(card));
  },
  parity: (dir: string) => {
    const p = JSON.parse(readFileSync(join(dir, 'parity.json'), 'utf8'));
    p.rows[7].probability = Math.min(1, p.rows[7].probability + 0.01);
    writeFileSync(join(dir, 'parity.json'), JSON.stringify(p));
  },
};

const row = () => parity().rows[0]!.features;

function serving(root: string, routing: object): void {
  writeFileSync(join(root, 'churn', 'serving.json'), JSON.stringify(routing));
}

const readServing = (root: string) => JSON.parse(readFileSync(join(root, 'churn', 'serving.json'), 'utf8'));

describe('the gate', () => {
  for (const [what, reason] of [
    ['onnx', 'load_failed'],
    ['card', 'schema_mismatch'],
    ['parity', 'parity_failed'],
  ] as const) {
    it(`a version with a spoiled ${what} is failed (${reason}) and never answers; the active one serves`, async () => {
      const root = repo(['1', '2'], (dir, v) => v === '2' && spoil[what](dir));
      serving(root, { active: '1' });
      const r = await open(root);
      const churn = r.model('churn');
      expect(churn.statuses().map((s) => [s.version, s.state, s.reason])).toEqual([
        ['1', 'ready', undefined],
        ['2', 'failed', reason],
      ]);
      expect(() => r.resolve('churn', '2')).toThrow(expect.objectContaining({ code: 'MODEL_NOT_READY' }));
      expect([...churn.versions.keys()]).toEqual(['1']);
      await expect(churn.load('2')).rejects.toMatchObject({ code: 'MODEL_REJECTED', details: { reason } });
      expect(() => churn.route({ active: '2' })).toThrow(expect.objectContaining({ code: 'VERSION_NOT_LOADED' }));
      expect(() => churn.route({ canary: { version: '2', weight: 0.5 } })).toThrow(
        expect.objectContaining({ code: 'VERSION_NOT_LOADED' }),
      );
      const { scores } = await r.resolve('churn').scorer.score([row()]);
      expect(scores[0]).toBeCloseTo(parity().rows[0]!.probability, 5);
    });
  }

  it('the parity report of a good version is kept; the gateway does not start when the active version fails', async () => {
    const good = await open(repo(['1']));
    const [status] = good.model('churn').statuses();
    expect(status!.parity).toMatchObject({ rows: parity().rows.length, tolerance: parity().tolerance });
    expect(status!.parity!.maxAbsDiff).toBeLessThanOrEqual(parity().tolerance);
    await expect(open(repo(['1', '2'], (dir, v) => v === '2' && spoil.parity(dir)))).rejects.toMatchObject({
      code: 'MODEL_REJECTED',
      details: { version: '2', reason: 'parity_failed' },
    });
  });

  it('a failed version fixed on disk loads on the next try', async () => {
    const root = repo(['1', '2'], (dir, v) => v === '2' && spoil.onnx(dir));
    serving(root, { active: '1' });
    const r = await open(root);
    copyFileSync(join(churnDir(), 'model.onnx'), join(root, 'churn', '2', 'model.onnx'));
    expect(await r.model('churn').load('2')).toMatchObject({ version: '2', state: 'ready' });
    expect(r.resolve('churn', '2').version).toBe('2');
  });
});

describe('routing and rollback', () => {
  it('promote, canary, shadow and rollback change what answers and are written to serving.json', async () => {
    const root = repo(['1', '2', '3']);
    serving(root, { active: '1' });
    const r = await open(root);
    const churn = r.model('churn');
    expect(churn.active.version).toBe('1');
    churn.route({ canary: { version: '2', weight: 0.25 }, shadow: '3' });
    expect(churn.canary).toMatchObject({ weight: 0.25 });
    expect(churn.canary!.mv.version).toBe('2');
    expect(churn.shadow!.version).toBe('3');
    expect(readServing(root)).toEqual({
      active: '1',
      previous: null,
      canary: { version: '2', weight: 0.25 },
      shadow: '3',
    });

    // Promoting the canary makes it active and clears it as canary; version 1 becomes previous.
    churn.route({ active: '2' });
    expect(churn.active.version).toBe('2');
    expect(churn.canary).toBeNull();
    expect(readServing(root)).toEqual({ active: '2', previous: '1', canary: null, shadow: '3' });

    churn.rollback();
    expect(churn.active.version).toBe('1');
    expect(r.resolve('churn').version).toBe('1');
    expect(readServing(root)).toEqual({ active: '1', previous: '2', canary: null, shadow: '3' });
  });

  it('refuses what breaks a rule, and changes nothing when it does', async () => {
    const root = repo(['1', '2']);
    serving(root, { active: '1' });
    const r = await open(root);
    const churn = r.model('churn');
    expect(() => churn.rollback()).toThrow(expect.objectContaining({ code: 'NO_PREVIOUS_VERSION' }));
    expect(() => churn.route({ shadow: '1' })).toThrow(expect.objectContaining({ code: 'INVALID_ROUTING' }));
    expect(() => churn.route({ canary: { version: '1', weight: 0.5 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ROUTING' }),
    );
    expect(() => churn.route({ active: '9' })).toThrow(expect.objectContaining({ code: 'VERSION_NOT_FOUND' }));
    expect(churn.routing).toEqual({ active: '1', previous: null, canary: null, shadow: null });
    expect(readServing(root)).toEqual({ active: '1' });
  });

  it('a canary or shadow that fails its gate at start is not routed; the file is left as it was', async () => {
    const root = repo(['1', '2'], (dir, v) => v === '2' && spoil.parity(dir));
    serving(root, { active: '1', canary: { version: '2', weight: 0.5 } });
    const r = await open(root);
    expect(r.model('churn').canary).toBeNull();
    expect(r.model('churn').routing.canary).toBeNull();
    expect(readServing(root).canary).toEqual({ version: '2', weight: 0.5 });
  });
});

describe('loading and unloading while serving', () => {
  it('a version copied in later loads; unloading refuses the active one and drains the rows handed over', async () => {
    const root = repo(['1']);
    const r = await open(root);
    const churn = r.model('churn');
    addVersion(root, '2');
    expect(await churn.load('2')).toMatchObject({ version: '2', state: 'ready', parity: expect.any(Object) });
    await expect(churn.unload('1')).rejects.toMatchObject({ code: 'VERSION_IN_USE' });
    churn.route({ canary: { version: '2', weight: 0.1 } });
    await expect(churn.unload('2')).rejects.toMatchObject({ code: 'VERSION_IN_USE' });
    churn.route({ canary: null });

    const mv = r.resolve('churn', '2');
    const rows = parity().rows.slice(0, 200);
    // Handed over in the same turn as the unload starts: every one is still answered.
    const scoring = Promise.all(rows.map((x) => mv.scorer.score([x.features])));
    const unloading = churn.unload('2');
    expect(churn.statuses().find((s) => s.version === '2')!.state).toBe('draining');
    expect(() => r.resolve('churn', '2')).toThrow(expect.objectContaining({ code: 'MODEL_NOT_READY' }));
    const answers = await scoring;
    await unloading;
    for (const [i, a] of answers.entries()) expect(a.scores[0]).toBeCloseTo(rows[i]!.probability, 5);
    expect(churn.statuses().map((s) => s.version)).toEqual(['1']);
    expect(() => r.resolve('churn', '2')).toThrow(expect.objectContaining({ code: 'VERSION_NOT_FOUND' }));
    await expect(mv.scorer.score([rows[0]!.features])).rejects.toMatchObject({ code: 'BATCHER_CLOSED' });
    // And back again: the folder is still there.
    expect(await churn.load('2')).toMatchObject({ state: 'ready' });
  });

  it('unloading the shadow stops shadowing; loading a folder that is not there is a 404', async () => {
    const root = repo(['1', '2']);
    serving(root, { active: '1', shadow: '2' });
    const r = await open(root);
    const churn = r.model('churn');
    expect(churn.shadow!.version).toBe('2');
    await churn.unload('2');
    expect(churn.shadow).toBeNull();
    expect(readServing(root).shadow).toBeNull();
    await expect(churn.load('7')).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
    await expect(churn.load('07')).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
  });
});
