import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DriftBins,
  DriftReferenceError,
  DriftWindow,
  driftStatus,
  interval,
  MISSING,
  psi,
  summarize,
  UNSEEN,
} from '../src/index.js';
import { repoRoot, sample, seeded, type TelcoRecord, telcoRecords } from './telco.js';

const cardOf = (version: number) =>
  JSON.parse(readFileSync(`${repoRoot}models/churn/${version}/model.json`, 'utf8')) as Record<string, unknown>;
const bins = DriftBins.fromCard(cardOf(1))!;
const training = telcoRecords();

/** Every feature's PSI (and the score's) for rows counted in one go. */
function drift(records: readonly unknown[], scores: ArrayLike<number>, b = bins) {
  const counts = new Float64Array(b.size);
  for (let i = 0; i < records.length; i++) b.count(records[i], scores[i]!, counts);
  return summarize(b, counts, records.length, 1);
}
const byName = (s: ReturnType<typeof drift>) => Object.fromEntries(s.features.map((f) => [f.name, f.psi!]));
const zeros = (n: number) => new Float64Array(n).fill(0.05);

describe('bins from the model card', () => {
  it('has a layout for every reference feature and the score, side by side', () => {
    const card = cardOf(1) as { reference: { features: Record<string, unknown> } };
    expect(bins.features.map((f) => f.name)).toEqual(Object.keys(card.reference.features));
    let offset = 0;
    for (const l of [...bins.features, bins.score]) {
      expect(l.offset).toBe(offset);
      expect(l.labels.length).toBe(l.reference.length);
      expect([...l.reference].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
      offset += l.labels.length;
    }
    expect(bins.size).toBe(offset);
    const contract = bins.features.find((f) => f.name === 'Contract')!;
    expect(contract.labels).toEqual(['Month-to-month', 'One year', 'Two year', UNSEEN, MISSING]);
    const total = bins.features.find((f) => f.name === 'TotalCharges')!;
    expect(total.labels.at(-1)).toBe(MISSING);
    expect(total.reference.at(-1)).toBeCloseTo(0.001503, 6);
  });

  it('puts values on the edges where the card says: [a, b), the last closed, outside to the ends', () => {
    const e = Float64Array.from([0, 2, 6, 12]);
    expect([-5, 0, 1.99, 2, 5.9, 6, 11.9, 12, 99].map((v) => interval(e, v))).toEqual([0, 0, 0, 1, 1, 2, 2, 2, 2]);
    expect([0, 0.49, 0.5, 1].map((v) => interval(Float64Array.from([0, 0.5, 1]), v))).toEqual([0, 0, 1, 1]);
  });

  it('counts unseen categories, wrong types and missing values in their own bins', () => {
    const counts = new Float64Array(bins.size);
    const contract = bins.features.find((f) => f.name === 'Contract')!;
    const total = bins.features.find((f) => f.name === 'TotalCharges')!;
    const at = (l: typeof contract, label: string) => counts[l.offset + l.labels.indexOf(label)];
    bins.count({ Contract: 'Ten year', TotalCharges: null }, 0.42, counts);
    bins.count({ Contract: 7, TotalCharges: Number.NaN }, Number.NaN, counts);
    bins.count({ Contract: 'One year', TotalCharges: 10 }, 1, counts);
    bins.count(null, 0, counts);
    expect(at(contract, UNSEEN)).toBe(2);
    expect(at(contract, 'One year')).toBe(1);
    expect(at(contract, MISSING)).toBe(1);
    expect(at(total, MISSING)).toBe(3);
    expect(at(total, total.labels[0]!)).toBe(1);
    const score = bins.score;
    expect(counts[score.offset + 4]).toBe(1); // 0.42 in [0.4, 0.5)
    expect(counts[score.offset + 9]).toBe(1); // 1 in the closed last bin
    expect(counts[score.offset + 10]).toBe(1); // NaN
    // Every feature counts each row exactly once.
    for (const l of bins.features)
      expect(counts.slice(l.offset, l.offset + l.labels.length).reduce((a, b) => a + b)).toBe(4);
  });

  it('counts features and categories whose names need quoting (the counter is generated code)', () => {
    const b = DriftBins.fromCard({
      reference: {
        features: {
          'a"b\\': { type: 'categorical', categories: { 'x"y': 0.5, "it's\n": 0.5 } },
          '}; throw 1; {': { type: 'numeric', edges: [0, 1, 2], shares: [0.5, 0.5] },
        },
        score: { edges: [0, 1], shares: [1] },
      },
    })!;
    const counts = new Float64Array(b.size);
    b.count({ 'a"b\\': "it's\n", '}; throw 1; {': 1.5 }, 0.5, counts);
    b.count({ 'a"b\\': 'x"y', '}; throw 1; {': 'NaN' }, 0.5, counts);
    const [cat, num] = b.features;
    expect([...counts.slice(cat!.offset, cat!.offset + 4)]).toEqual([1, 1, 0, 0]);
    expect([...counts.slice(num!.offset, num!.offset + 3)]).toEqual([0, 1, 1]);
  });

  it('is null for a card without a reference and names the field of a broken one', () => {
    expect(DriftBins.fromCard({ features: [] })).toBeNull();
    const broken = (ref: unknown) => () => DriftBins.fromCard({ reference: ref }, 'x/model.json');
    expect(broken({ features: {}, score: { edges: [0, 1], shares: [1] } })).not.toThrow();
    expect(broken({ features: {} })).toThrow(DriftReferenceError);
    expect(broken({ features: { a: { type: 'numeric', edges: [0, 1, 1], shares: [0.5, 0.5] } }, score: {} })).toThrow(
      /reference\.features\.a\.edges must increase/,
    );
    expect(broken({ features: { a: { type: 'categorical', categories: { x: 0.2, y: 0.2 } } }, score: {} })).toThrow(
      /reference\.features\.a\.categories sum to 0\.4/,
    );
    expect(broken({ features: {}, score: { edges: [0, 0.5, 1], shares: [1] } })).toThrow(
      /reference\.score\.shares must have one share per interval \(2\)/,
    );
    expect(broken({ features: { a: { type: 'text' } }, score: {} })).toThrow(/"numeric" or "categorical"/);
  });
});

describe('PSI', () => {
  it('is 0 for the reference itself and matches a hand computation', () => {
    const b = DriftBins.fromCard({
      reference: { features: {}, score: { edges: [0, 0.5, 1], shares: [0.8, 0.2] } },
    })!;
    expect(psi(b.score, [80, 20, 0], 100)).toBeCloseTo(0, 12);
    const expected = (0.5 - 0.8) * Math.log(0.5 / 0.8) + (0.5 - 0.2) * Math.log(0.5 / 0.2);
    expect(psi(b.score, [50, 50, 0], 100)).toBeCloseTo(expected, 12);
    // A bin the reference never saw is floored, not infinite.
    expect(Number.isFinite(psi(b.score, [0, 0, 10], 10))).toBe(true);
  });

  it('reads as ok under 0.1, watch up to 0.25, drift above', () => {
    expect([0, 0.0999, 0.1, 0.25, 0.2501, null].map(driftStatus)).toEqual([
      'ok',
      'ok',
      'watch',
      'watch',
      'drift',
      'insufficient_data',
    ]);
  });

  it('keeps every feature under 0.1 for rows drawn like the training data', () => {
    const rows = sample(training, 5000, seeded(7));
    const s = drift(rows, zeros(rows.length));
    for (const f of s.features) expect(f.psi, f.name).toBeLessThan(0.1);
    expect(s.features.every((f) => f.status === 'ok')).toBe(true);
  });

  it('keeps the score under 0.1 for the test split probabilities the reference came from', () => {
    const parity = JSON.parse(readFileSync(`${repoRoot}models/churn/1/parity.json`, 'utf8')) as {
      rows: { probability: number }[];
    };
    const rows = sample(parity.rows, 5000, seeded(11));
    const s = drift(rows, Float64Array.from(rows.map((r) => r.probability)));
    expect(s.prediction.psi).toBeLessThan(0.1);
    // Every row scored 0.95: far from the reference, in a bin it never saw.
    expect(drift(rows, new Float64Array(rows.length).fill(0.95)).prediction.status).toBe('drift');
  });

  const shifted = (name: string, change: (r: TelcoRecord) => TelcoRecord) => {
    const rows = sample(training, 5000, seeded(3)).map(change);
    const psis = byName(drift(rows, zeros(rows.length)));
    expect(psis[name]).toBeGreaterThan(0.25);
    for (const [other, value] of Object.entries(psis)) if (other !== name) expect(value, other).toBeLessThan(0.1);
  };

  it('flags Contract, and only Contract, when every customer is on a two-year contract', () => {
    shifted('Contract', (r) => ({ ...r, Contract: 'Two year' }));
  });

  it('flags tenure, and only tenure, when tenure is halved', () => {
    shifted('tenure', (r) => ({ ...r, tenure: Math.floor((r.tenure as number) / 2) }));
  });

  it('works for every model in the repository', () => {
    const b2 = DriftBins.fromCard(cardOf(2))!;
    const rows = sample(training, 3000, seeded(5));
    for (const f of drift(rows, zeros(rows.length), b2).features) expect(f.psi, f.name).toBeLessThan(0.1);
  });
});

describe('sliding window', () => {
  const rows = sample(training, 4000, seeded(9));
  const twoYear = rows.map((r) => ({ ...r, Contract: 'Two year' }));
  const contractPsi = (w: DriftWindow) => w.snapshot().features.find((f) => f.name === 'Contract')!.psi;

  it('by rows: keeps the last N rows, so a shift shows and then leaves', () => {
    const w = new DriftWindow(bins, { rows: 1000, minRows: 100 });
    w.observe(rows.slice(0, 1500), zeros(1500));
    expect(w.rows).toBe(1000);
    expect(contractPsi(w)).toBeLessThan(0.1);
    w.observe(twoYear.slice(0, 1000), zeros(1000));
    expect(w.rows).toBe(1000);
    expect(contractPsi(w)).toBeGreaterThan(0.25);
    // Half the window back to normal: still drifting; all of it: not.
    w.observe(rows.slice(1500, 2000), zeros(500));
    expect(contractPsi(w)).toBeGreaterThan(0.1);
    w.observe(rows.slice(2000, 3000), zeros(1000));
    expect(contractPsi(w)).toBeLessThan(0.1);
  });

  it('by rows: slides a segment at a time and reports no index under the minimum', () => {
    const w = new DriftWindow(bins, { rows: 100, segments: 4, minRows: 60 });
    w.observe(rows.slice(0, 50), zeros(50));
    const small = w.snapshot();
    expect(small.rows).toBe(50);
    expect(small.features.every((f) => f.psi === null && f.status === 'insufficient_data')).toBe(true);
    expect(small.prediction.psi).toBeNull();
    w.observe(rows.slice(50, 101), zeros(51));
    // 101 rows: the first segment of 25 went, the newest holds 1.
    expect(w.rows).toBe(76);
    expect(w.snapshot().features[0]!.psi).not.toBeNull();
  });

  it('by time: keeps the rows of the last T seconds, and the time the oldest came', () => {
    let now = 1_000_000;
    const w = new DriftWindow(bins, { seconds: 60, segments: 6, minRows: 1, now: () => now });
    w.observe(twoYear.slice(0, 300), zeros(300));
    now += 30_000;
    w.observe(rows.slice(0, 300), zeros(300));
    expect(w.rows).toBe(600);
    expect(w.snapshot().since).toBe(1_000_000);
    now += 35_000; // the two-year rows are 65 s old: gone
    expect(w.rows).toBe(300);
    expect(w.snapshot().since).toBe(1_030_000);
    expect(contractPsi(w)).toBeLessThan(0.1);
    now += 3_600_000; // idle for an hour: empty
    const s = w.snapshot();
    expect(s.rows).toBe(0);
    expect(s.since).toBeNull();
    w.observe(rows.slice(0, 10), zeros(10));
    expect(w.rows).toBe(10);
  });

  it('shares in the snapshot are the counted rows over the window', () => {
    const w = new DriftWindow(bins, { rows: 10_000, minRows: 1 });
    const contract = (r: TelcoRecord, c: string) => ({ ...r, Contract: c });
    w.observe(
      [
        contract(rows[0]!, 'One year'),
        contract(rows[1]!, 'One year'),
        contract(rows[2]!, 'x'),
        contract(rows[3]!, 'Two year'),
      ],
      zeros(4),
    );
    const f = w.snapshot().features.find((x) => x.name === 'Contract')!;
    expect(Object.fromEntries(f.bins.map((b) => [b.label, b.current]))).toEqual({
      'Month-to-month': 0,
      'One year': 0.5,
      'Two year': 0.25,
      [UNSEEN]: 0.25,
      [MISSING]: 0,
    });
    w.clear();
    expect(w.rows).toBe(0);
  });

  it('refuses a window without a size', () => {
    expect(() => new DriftWindow(bins, {})).toThrow(RangeError);
    expect(() => new DriftWindow(bins, { rows: 10, seconds: 10 })).toThrow(RangeError);
    expect(() => new DriftWindow(bins, { rows: 0 })).toThrow(RangeError);
  });
});
