// Categorical inputs as integer codes (the categoricalCodes option), on both bundled churn
// versions and real ONNX Runtime: the rewritten graph must give the plain graph's outputs bit for
// bit, on every parity row and on random rows full of unknown and empty strings, and refuse
// exactly what the plain graph refuses.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Feeds, Model, type ScorerError } from '../src/index.js';
import { repoRoot } from './helpers.js';

interface Parity {
  tolerance: number;
  output: { name: string; index: number };
  rows: { features: Record<string, string | number | null> }[];
}

const versions = ['1', '2'].map((v) => {
  const dir = `${repoRoot}models/churn/${v}`;
  return { v, dir, parity: JSON.parse(readFileSync(`${dir}/parity.json`, 'utf8')) as Parity };
});
const models = new Map<string, { coded: Model; plain: Model }>();

beforeAll(async () => {
  for (const { v, dir } of versions) {
    models.set(v, {
      coded: await Model.load(`${dir}/model.onnx`),
      plain: await Model.load(`${dir}/model.onnx`, { categoricalCodes: false }),
    });
  }
});
afterAll(() => {
  for (const m of models.values()) {
    m.coded.close();
    m.plain.close();
  }
});

/** mulberry32: the same random rows on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Columns in the model's own types: the parity rows, then random rows. */
function feedsOf(model: Model, parity: Parity, randomRows: number, seed: number): { feeds: Feeds; rows: number } {
  const next = rng(seed);
  const rows = parity.rows.length + randomRows;
  const feeds: Record<string, Float32Array | string[]> = {};
  for (const p of model.inputPlans) {
    const seen = [...new Set(parity.rows.map((r) => r.features[p.name]))];
    if (p.jsType === 'string') {
      const col = parity.rows.map((r) => String(r.features[p.name]));
      for (let i = 0; i < randomRows; i++) {
        const roll = next();
        col.push(roll < 0.05 ? 'never seen' : roll < 0.1 ? '' : String(seen[Math.floor(next() * seen.length)]));
      }
      feeds[p.name] = col;
    } else {
      const col = new Float32Array(rows);
      parity.rows.forEach((r, i) => {
        col[i] = r.features[p.name] === null ? Number.NaN : Number(r.features[p.name]);
      });
      for (let i = parity.rows.length; i < rows; i++) col[i] = next() < 0.05 ? Number.NaN : next() * 9000;
      feeds[p.name] = col;
    }
  }
  return { feeds, rows };
}

const bits = (data: unknown) => Array.from(new Uint32Array((data as Float32Array).slice().buffer));

async function failure(f: () => unknown): Promise<ScorerError> {
  try {
    await f();
  } catch (err) {
    return err as ScorerError;
  }
  throw new Error('expected a failure');
}

describe.each(versions)('churn v$v with categorical codes', ({ v, parity }) => {
  it('keeps the string contract and lists each categorical input with its categories', () => {
    const { coded, plain } = models.get(v)!;
    expect(coded.inputs).toEqual(plain.inputs);
    const strip = (m: Model) => m.inputPlans.map(({ categories: _, ...rest }) => rest);
    expect(strip(coded)).toEqual(strip(plain));
    const stringInputs = plain.inputPlans.filter((p) => p.jsType === 'string').map((p) => p.name);
    expect(stringInputs.length).toBe(15);
    expect(coded.inputPlans.filter((p) => p.categories !== null).map((p) => p.name)).toEqual(stringInputs);
    expect(plain.inputPlans.every((p) => p.categories === null)).toBe(true);
    const contract = coded.inputPlans.find((p) => p.name === 'Contract')!;
    expect(contract.categories).toEqual(['Month-to-month', 'One year', 'Two year']);
  });

  it('gives the plain graph’s outputs bit for bit on the parity rows and 3,000 random rows', async () => {
    const { coded, plain } = models.get(v)!;
    const { feeds, rows } = feedsOf(plain, parity, 3000, 17);
    const a = coded.runSync(feeds, rows);
    const b = plain.runSync(feeds, rows);
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const name of Object.keys(a)) expect(bits(a[name]!.data), name).toEqual(bits(b[name]!.data));
    const async = await coded.run(feeds, rows);
    const probs = async[parity.output.name]!.data as Float32Array;
    expect(bits(probs)).toEqual(bits(b[parity.output.name]!.data));
    // And the parity rows still reproduce the training pipeline's probabilities.
    const expected = JSON.parse(readFileSync(`${repoRoot}models/churn/${v}/parity.json`, 'utf8')).rows as {
      probability: number;
    }[];
    const worst = Math.max(...expected.map((r, i) => Math.abs(probs[i * 2 + parity.output.index]! - r.probability)));
    expect(worst).toBeLessThanOrEqual(parity.tolerance);
  });

  it('takes the codes themselves as a BigInt64Array; a code that is no category reads as an unknown string', () => {
    const { coded } = models.get(v)!;
    const { feeds, rows } = feedsOf(coded, parity, 200, 5);
    const asCodes: Feeds = { ...feeds };
    // Every other coded input as codes, the rest as strings: both share the run's codes buffer.
    for (const [k, p] of coded.inputPlans.filter((q) => q.categories).entries()) {
      if (k % 2 === 1) continue;
      const col = feeds[p.name] as string[];
      asCodes[p.name] = BigInt64Array.from(col, (s, i) => {
        const c = p.categories!.indexOf(s);
        return BigInt(c >= 0 ? c : i % 2 === 0 ? -1 : 99);
      });
    }
    const out = parity.output.name;
    expect(bits(coded.runSync(asCodes, rows)[out]!.data)).toEqual(bits(coded.runSync(feeds, rows)[out]!.data));
  });

  it('gives the same answers for small batches, sync and async', async () => {
    const { coded, plain } = models.get(v)!;
    const { feeds } = feedsOf(plain, parity, 0, 1);
    const out = parity.output.name;
    for (const [from, rows] of [
      [0, 1],
      [17, 1],
      [40, 7],
    ] as const) {
      const slice: Feeds = {};
      for (const [name, col] of Object.entries(feeds)) slice[name] = col.slice(from, from + rows) as typeof col;
      const want = bits(plain.runSync(slice, rows)[out]!.data);
      expect(bits(coded.runSync(slice, rows)[out]!.data)).toEqual(want);
      expect(bits((await coded.run(slice, rows))[out]!.data)).toEqual(want);
    }
  });

  it('refuses the same feeds the plain graph refuses, with the same errors', async () => {
    const { coded, plain } = models.get(v)!;
    const { feeds, rows } = feedsOf(plain, parity, 0, 1);
    const bad: [string, unknown][] = [
      ['a number among the strings', Object.assign([...(feeds.gender as string[])], { 3: 7 })],
      ['a NUL inside a string', Object.assign([...(feeds.gender as string[])], { 5: 'Ma\0le' })],
      ['not an array', new Float32Array(rows)],
      ['too few values', (feeds.gender as string[]).slice(1)],
    ];
    for (const [what, gender] of bad) {
      const f = { ...feeds, gender } as Feeds;
      const [x, y] = [await failure(() => coded.runSync(f, rows)), await failure(() => plain.runSync(f, rows))];
      // The plain graph's NUL error also carries the addon's count mismatch as its cause.
      const { cause: _, ...yDetails } = y.details ?? {};
      expect([x.code, x.message, x.details], what).toEqual([y.code, y.message, yDetails]);
      expect(x.code, what).toMatch(/^INPUT_(TYPE|SHAPE)_MISMATCH$/);
    }
  });
});
