// Inline runs: `run` runs on the calling thread when what the model's runs measured predicts the
// run within `inlineBudgetMicros` and nothing else is in flight; otherwise on the pool. Against
// real ONNX Runtime: the churn model (a one-row run costs tens of µs) and the slow fixture (a
// run as slow as its input asks).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FeatureSchema, type Feeds, Model } from '../src/index.js';
import { activeModelDir } from './helpers.js';

const dir = activeModelDir('churn');
const card = JSON.parse(readFileSync(`${dir}/model.json`, 'utf8'));
const parity = JSON.parse(readFileSync(`${dir}/parity.json`, 'utf8')) as {
  rows: { features: Record<string, unknown> }[];
};
const slowPath = fileURLToPath(new URL('./fixtures/slow.onnx', import.meta.url));
const models: Model[] = [];
afterAll(() => {
  for (const m of models) m.close();
});

async function churn(
  options?: Parameters<typeof Model.load>[1],
): Promise<{ model: Model; feeds: (n: number) => Feeds }> {
  const model = await Model.load(`${dir}/model.onnx`, options);
  models.push(model);
  const schema = FeatureSchema.fromModel(model, card, { passthrough: ['customerID'] });
  const feeds = (n: number) => schema.columnize(parity.rows.slice(0, n).map((r) => r.features)).feeds;
  return { model, feeds };
}

const probs = (out: Record<string, { data: unknown }>) => Array.from(out.probabilities!.data as Float32Array);

describe('Model.run inline', () => {
  it('sends the first run to the pool, then runs one-row calls inline, with the same answers', async () => {
    const { model, feeds } = await churn({ inlineBudgetMicros: 1000 });
    expect(model.runStats).toEqual({ inline: 0, pool: 0, microsPerRow: null });
    const one = feeds(1);
    const first = await model.run(one, 1);
    expect(model.runStats.pool).toBe(1);
    const cost = model.runStats.microsPerRow!;
    expect(cost).toBeGreaterThan(0);
    // The first run is cold (it can cost ten times a warm one); the warm ones correct that fast.
    for (let i = 0; i < 20; i++) expect(probs(await model.run(one, 1))).toEqual(probs(first));
    const warm = model.runStats;
    for (let i = 0; i < 20; i++) expect(probs(await model.run(one, 1))).toEqual(probs(first));
    // A warm one-row run of this model costs far less than a millisecond: every one ran inline.
    expect(model.runStats).toMatchObject({ inline: warm.inline + 20, pool: warm.pool });
    expect(probs(model.runSync(one, 1))).toEqual(probs(first));
  });

  it('keeps a batch predicted beyond the budget on the pool, and zero-row calls count as neither', async () => {
    const { model, feeds } = await churn({ inlineBudgetMicros: 300 });
    for (let i = 0; i < 20; i++) await model.run(feeds(1), 1);
    const rows = Math.ceil(300 / model.runStats.microsPerRow!) + 1; // predicted past the budget
    expect(rows).toBeLessThanOrEqual(parity.rows.length);
    const before = model.runStats;
    await model.run(feeds(rows), rows);
    expect(model.runStats).toMatchObject({ inline: before.inline, pool: before.pool + 1 });
    await model.run(feeds(0), 0);
    expect(model.runStats.inline + model.runStats.pool).toBe(before.inline + before.pool + 1);
  });

  it('never runs inline with a budget of 0, nor while another run is in flight', async () => {
    const off = await churn({ inlineBudgetMicros: 0 });
    for (let i = 0; i < 10; i++) await off.model.run(off.feeds(1), 1);
    expect(off.model.runStats).toMatchObject({ inline: 0, pool: 10 });

    const { model, feeds } = await churn({ inlineBudgetMicros: 100 });
    for (let i = 0; i < 20; i++) await model.run(feeds(1), 1);
    const before = model.runStats;
    // Every parity row (300) in one run goes to the pool; the one-row call made while it runs
    // waits its turn and goes to the pool too, settling after it.
    const order: string[] = [];
    const big = model.run(feeds(parity.rows.length), parity.rows.length).then(() => order.push('big'));
    const small = model.run(feeds(1), 1).then(() => order.push('small'));
    await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']);
    expect(model.runStats).toMatchObject({ inline: before.inline, pool: before.pool + 2 });
  });

  it('keeps a model whose runs cost more than the budget on the pool', async () => {
    const slow = await Model.load(slowPath);
    models.push(slow);
    // 300 iterations of a 128x128 MatMul: well past 30 µs.
    for (let i = 0; i < 5; i++) await slow.run({ x: new Float32Array([300]) }, 1);
    expect(slow.runStats).toMatchObject({ inline: 0, pool: 5 });
    expect(slow.runStats.microsPerRow!).toBeGreaterThan(30);
  });

  it('refuses bad inline budgets', async () => {
    for (const inlineBudgetMicros of [-1, 1001, 2.5, '30']) {
      await expect(Model.load(slowPath, { inlineBudgetMicros } as never)).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        details: { option: 'inlineBudgetMicros' },
      });
    }
  });
});
