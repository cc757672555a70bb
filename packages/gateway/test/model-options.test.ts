// The config's model section reaches every version's Model.load: categorical codes and inline
// runs are on by default and off when configured, and the answers are the same either way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parity, postJson, startInProcess } from './helpers.js';

type Started = Awaited<ReturnType<typeof startInProcess>>;
let on: Started;
let off: Started;

beforeAll(async () => {
  // A generous budget so that, on any machine, warm one-row runs are predicted within it.
  on = await startInProcess({ model: { inlineBudgetMicros: 1000 } } as never);
  off = await startInProcess({ model: { categoricalCodes: false, inlineBudgetMicros: 0 } } as never);
});
afterAll(async () => {
  await on?.close();
  await off?.close();
});

describe('model options from the config', () => {
  it('loads each version with the configured codes and inline budget', () => {
    const a = on.gateway.registry.entry('churn')!.active.model;
    const b = off.gateway.registry.entry('churn')!.active.model;
    expect(a.options).toMatchObject({ categoricalCodes: true, inlineBudgetMicros: 1000 });
    expect(b.options).toMatchObject({ categoricalCodes: false, inlineBudgetMicros: 0 });
    expect(a.inputPlans.filter((p) => p.categories !== null)).toHaveLength(15);
    expect(b.inputPlans.every((p) => p.categories === null)).toBe(true);
  });

  it('answers the same with and without them, one request at a time, inline only where on', async () => {
    const { rows: all, tolerance } = parity();
    const rows = all.slice(0, 40);
    for (const r of rows) {
      const body = { customer_id: r.customerID, ...r.features };
      const [x, y] = await Promise.all([
        postJson(`${on.url}/v1/models/churn/predict`, body),
        postJson(`${off.url}/v1/models/churn/predict`, body),
      ]);
      expect(x.status).toBe(200);
      // Each gateway makes its own prediction ids; everything else is the same answer.
      const { prediction_id: _x, ...xs } = x.json;
      const { prediction_id: _y, ...ys } = y.json;
      expect(xs).toEqual(ys);
      expect(Math.abs(xs.churn_probability - r.probability)).toBeLessThanOrEqual(tolerance);
    }
    const a = on.gateway.registry.entry('churn')!.active.model.runStats;
    const b = off.gateway.registry.entry('churn')!.active.model.runStats;
    expect(a.inline).toBeGreaterThan(0);
    expect(b.inline).toBe(0);
    expect(b.pool).toBeGreaterThanOrEqual(rows.length);
  });
});
