// The Batcher against the real churn model (models/churn/<active>) and real ONNX Runtime. The
// parity rows were scored by the scikit-learn pipeline at training time: reproducing them through
// coalesced runs proves both the batching and the serving path.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Batcher, FeatureSchema, type Feeds, Model, type ScorerError } from '../src/index.js';
import { activeModelDir } from './helpers.js';

interface ParityRow {
  customerID: string;
  features: Record<string, unknown>;
  probability: number;
}

const dir = activeModelDir('churn');
const card = JSON.parse(readFileSync(`${dir}/model.json`, 'utf8'));
const parity = JSON.parse(readFileSync(`${dir}/parity.json`, 'utf8')) as { tolerance: number; rows: ParityRow[] };
const output = card.output as { name: string; index: number };

let model: Model;
/** Every run on the pool: a one-row run stays in flight long enough to queue others behind it. */
let pooled: Model;
let schema: FeatureSchema;

beforeAll(async () => {
  model = await Model.load(`${dir}/model.onnx`);
  pooled = await Model.load(`${dir}/model.onnx`, { inlineBudgetMicros: 0 });
  schema = FeatureSchema.fromModel(model, card, { passthrough: ['customerID'] });
});
afterAll(() => {
  model?.close();
  pooled?.close();
});

function rowsSeen(opts: ConstructorParameters<typeof Batcher>[2] = {}, on: Model = model) {
  const batches: number[] = [];
  const batcher = new Batcher(on, schema, { output, ...opts, onBatch: (rows) => batches.push(rows) });
  return { batcher, batches };
}

describe('Batcher.scoreColumns', () => {
  it('scores columns written by the schema as predict scores the records, and copies them at once', async () => {
    const { batcher } = rowsSeen();
    const records = parity.rows.map((r) => r.features);
    const cols = schema.allocate(records.length);
    const issues: unknown[] = [];
    schema.write(records, cols, 0, issues as never);
    expect(issues).toEqual([]);
    const pending = batcher.scoreColumns(cols, records.length);
    // The caller's columns are free once the call returns: overwriting them changes nothing.
    schema.write(records.slice().reverse(), cols, 0, []);
    const [fromColumns, fromRecords] = await Promise.all([pending, batcher.predict(records)]);
    expect(Array.from(fromColumns)).toEqual(Array.from(fromRecords));
    for (const [i, r] of parity.rows.entries())
      expect(Math.abs(fromColumns[i]! - r.probability)).toBeLessThanOrEqual(parity.tolerance);
  });
});

describe('Batcher.predict', () => {
  it('coalesces many concurrent calls into few runs, and every caller gets its own row', async () => {
    const { batcher, batches } = rowsSeen();
    const rows = parity.rows;
    const results = await Promise.all(rows.map((r) => batcher.predict([r.features])));
    for (const [i, r] of rows.entries()) {
      expect(results[i]!.length).toBe(1);
      expect(Math.abs(results[i]![0]! - r.probability)).toBeLessThanOrEqual(parity.tolerance);
    }
    expect(batches.reduce((a, b) => a + b, 0)).toBe(rows.length);
    // All calls arrived in one turn: the first run takes them together.
    expect(batches.length).toBeLessThan(rows.length / 10);
    expect(batcher.stats).toMatchObject({ queueRows: 0, inFlight: 0, runs: batches.length, rowsRun: rows.length });
  });

  it('sends a lone call at once, in a batch of one', async () => {
    const { batcher, batches } = rowsSeen();
    const [p] = await batcher.predict([parity.rows[0]!.features]);
    expect(Math.abs(p! - parity.rows[0]!.probability)).toBeLessThanOrEqual(parity.tolerance);
    expect(batches).toEqual([1]);
  });

  it('queues arrivals while a run is in flight and sends them together next', async () => {
    const { batcher, batches } = rowsSeen({}, pooled);
    const first = batcher.predict([parity.rows[0]!.features]);
    // Let the first call be dispatched, then pile up calls while it runs.
    await new Promise((r) => setImmediate(r));
    expect(batcher.stats.inFlight).toBe(1);
    const rest = parity.rows.slice(1, 101).map((r) => batcher.predict([r.features]));
    expect(batcher.stats.queueRows).toBe(100);
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([1, 100]);
  });

  it('never puts more than maxBatchRows in a run, except a single larger call which runs alone', async () => {
    const { batcher, batches } = rowsSeen({ maxBatchRows: 16 });
    const singles = parity.rows.slice(0, 100).map((r) => batcher.predict([r.features]));
    const big = batcher.predict(parity.rows.slice(0, 40).map((r) => r.features));
    const [bigResult] = await Promise.all([big, ...singles]);
    expect(Array.from(bigResult).map((p, i) => Math.abs(p - parity.rows[i]!.probability) <= parity.tolerance)).toEqual(
      new Array(40).fill(true),
    );
    expect(batches.filter((n) => n > 16)).toEqual([40]);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(140);
  });

  it('rejects with QUEUE_FULL past maxQueueRows, and still answers everything it accepted', async () => {
    const { batcher } = rowsSeen({ maxQueueRows: 50 });
    const settled = await Promise.allSettled(parity.rows.slice(0, 120).map((r) => batcher.predict([r.features])));
    const full = settled.filter((s) => s.status === 'rejected');
    const ok = settled.filter((s) => s.status === 'fulfilled');
    expect(ok.length).toBe(50);
    expect(full.length).toBe(70);
    for (const s of full) expect(((s as PromiseRejectedResult).reason as ScorerError).code).toBe('QUEUE_FULL');
    expect((full[0] as PromiseRejectedResult).reason.details).toEqual({
      reason: 'queue_rows',
      queueRows: 50,
      maxQueueRows: 50,
    });
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled')
        expect(Math.abs(s.value[0]! - parity.rows[i]!.probability)).toBeLessThanOrEqual(parity.tolerance);
    });
  });

  it('queueRefusal says, with no side effect, whether a call of n rows would be refused for the queue rows', async () => {
    const { batcher } = rowsSeen({ maxQueueRows: 50 });
    expect(batcher.queueRefusal(50)).toBeUndefined();
    expect(batcher.queueRefusal(51)?.details).toEqual({ reason: 'queue_rows', queueRows: 0, maxQueueRows: 50 });
    const calls = parity.rows.slice(0, 40).map((r) => batcher.predict([r.features]));
    expect(batcher.stats.queueRows).toBe(40);
    expect(batcher.queueRefusal(10)).toBeUndefined();
    // Rows the caller holds for it (a cache lookup in flight) count as queued.
    expect(batcher.queueRefusal(10, 1)).toMatchObject({ code: 'QUEUE_FULL', details: { queueRows: 41 } });
    expect(batcher.stats.queueRows).toBe(40);
    await Promise.all(calls);
    expect(batcher.stats).toMatchObject({ queueRows: 0, rowsRun: 40, rowsExpired: 0, rowsCancelled: 0 });
  });

  it('rejects an invalid call alone; the valid calls around it in the same batch are answered', async () => {
    const { batcher, batches } = rowsSeen();
    const a = batcher.predict([parity.rows[0]!.features]);
    const bad = batcher.predict([
      parity.rows[1]!.features,
      { ...parity.rows[2]!.features, tenure: -5, Contract: 'Weekly' },
    ]);
    const c = batcher.predict([parity.rows[3]!.features]);
    await expect(bad).rejects.toMatchObject({ code: 'INVALID_FEATURES' });
    const err = await bad.then(
      () => expect.unreachable(),
      (e: ScorerError) => e,
    );
    const issues = (err.details as { issues: { row: number; field: string }[] }).issues;
    expect(issues.map((i) => `${i.row}:${i.field}`).sort()).toEqual(['1:Contract', '1:tenure']);
    expect(Math.abs((await a)[0]! - parity.rows[0]!.probability)).toBeLessThanOrEqual(parity.tolerance);
    expect(Math.abs((await c)[0]! - parity.rows[3]!.probability)).toBeLessThanOrEqual(parity.tolerance);
    expect(batches).toEqual([2]);
  });

  it('never writes into buffers that a run in flight is reading', async () => {
    // The model is observed, not replaced: every run is real, and its feeds are compared after
    // it settles with what they held when it started, while other calls keep arriving.
    const changed: string[] = [];
    const observed = {
      inputs: model.inputs,
      inputPlans: model.inputPlans,
      outputs: model.outputs,
      run: async (feeds: Feeds, rows: number) => {
        const before = Object.fromEntries(
          Object.entries(feeds).map(([k, v]) => [k, Array.from(v as ArrayLike<unknown>, String).join()]),
        );
        const out = await model.run(feeds, rows);
        for (const [k, v] of Object.entries(feeds)) {
          if (Array.from(v as ArrayLike<unknown>, String).join() !== before[k]) changed.push(k);
        }
        return out;
      },
    } as unknown as Model;
    const batcher = new Batcher(observed, schema, { output, maxBatchRows: 8 });
    const calls: Promise<Float64Array>[] = [];
    for (let wave = 0; wave < 6; wave++) {
      for (const r of parity.rows.slice(wave * 20, wave * 20 + 20)) calls.push(batcher.predict([r.features]));
      await new Promise((r) => setImmediate(r));
    }
    const results = await Promise.all(calls);
    expect(changed).toEqual([]);
    for (const [i, res] of results.entries()) {
      expect(Math.abs(res[0]! - parity.rows[i]!.probability)).toBeLessThanOrEqual(parity.tolerance);
    }
  });

  it('with maxWaitMs, an idle engine waits to fill a batch instead of sending a lone call', async () => {
    const spaced = async (batcher: Batcher) => {
      const calls = [];
      for (const r of parity.rows.slice(0, 5)) {
        calls.push(batcher.predict([r.features]));
        await new Promise((res) => setImmediate(res));
      }
      return Promise.all(calls);
    };
    const continuous = rowsSeen();
    await spaced(continuous.batcher);
    expect(continuous.batches[0]).toBe(1);

    const windowed = rowsSeen({ maxWaitMs: 1000 });
    await spaced(windowed.batcher);
    expect(windowed.batches).toEqual([5]);
  });

  it('close() finishes queued and in-flight calls, then refuses new ones', async () => {
    const { batcher } = rowsSeen();
    const pending = parity.rows.slice(0, 30).map((r) => batcher.predict([r.features]));
    await batcher.close();
    const results = await Promise.all(pending);
    expect(results.length).toBe(30);
    await expect(batcher.predict([parity.rows[0]!.features])).rejects.toMatchObject({ code: 'BATCHER_CLOSED' });
  });

  it('rejects every call of a run that fails, and keeps working for the next', async () => {
    const other = await Model.load(`${dir}/model.onnx`);
    const s = FeatureSchema.fromModel(other, card);
    const batcher = new Batcher(other, s, { output });
    other.close();
    const settled = await Promise.allSettled([
      batcher.predict([parity.rows[0]!.features]),
      batcher.predict([parity.rows[1]!.features]),
    ]);
    expect(settled.map((r) => r.status === 'rejected' && (r.reason as ScorerError).code)).toEqual([
      'MODEL_CLOSED',
      'MODEL_CLOSED',
    ]);
    expect(batcher.stats).toMatchObject({ queueRows: 0, inFlight: 0 });
  });

  it('validates its options strictly', () => {
    expect(() => new Batcher(model, schema, { maxBatchRows: 0 })).toThrow(/maxBatchRows must be an integer >= 1/);
    expect(() => new Batcher(model, schema, { maxWaitMs: -1 })).toThrow(/maxWaitMs/);
    expect(() => new Batcher(model, schema, { output: { name: 'nope', index: 0 } })).toThrow(/not an output/);
    expect(() => new Batcher(model, schema, { output: { name: output.name, index: 5 } })).toThrow(/no column 5/);
    expect(() => new Batcher(model, schema, { maxBatch: 5 } as never)).toThrow(/unknown Batcher option "maxBatch"/);
  });
});

describe('Batcher deadlines and cancellation', () => {
  const close = (p: number, i: number) => Math.abs(p - parity.rows[i]!.probability) <= parity.tolerance;

  it('a deadline already past is refused at once, nothing queued', async () => {
    const { batcher, batches } = rowsSeen();
    await expect(
      batcher.predict([parity.rows[0]!.features], { deadline: performance.now() - 1 }),
    ).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(batcher.stats).toMatchObject({ queueRows: 0, runs: 0, rowsExpired: 1 });
    expect(batches).toEqual([]);
  });

  it('rows whose deadline passes while queued are never run; the rows around them are, with their own answers', async () => {
    const dropped: [string, number][] = [];
    const batches: number[] = [];
    const batcher = new Batcher(model, schema, {
      output,
      onBatch: (rows) => batches.push(rows),
      onDrop: (reason, rows) => dropped.push([reason, rows]),
    });
    // A first call of 30,000 rows occupies the engine for tens of milliseconds; the calls behind
    // it queue in one batch, and a 1 ms deadline passes long before that batch can run.
    const big = Array.from({ length: 30_000 }, (_, i) => parity.rows[i % parity.rows.length]!.features);
    const first = batcher.predict(big);
    await new Promise((r) => setImmediate(r));
    const soon = performance.now() + 1;
    const calls = [1, 2, 3, 4, 5].map((i) =>
      // Calls 2 and 4 (three rows each) expire; the others have no deadline.
      i % 2 === 0
        ? batcher.predict(
            [i, i + 10, i + 20].map((j) => parity.rows[j]!.features),
            { deadline: soon },
          )
        : batcher.predict([parity.rows[i]!.features]),
    );
    const settled = await Promise.allSettled([first, ...calls]);
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    for (const i of [1, 3, 5])
      expect(close((settled[i] as PromiseFulfilledResult<Float64Array>).value[0]!, i)).toBe(true);
    expect(((settled[2] as PromiseRejectedResult).reason as ScorerError).code).toBe('DEADLINE_EXCEEDED');
    expect(batches).toEqual([30_000, 3]);
    expect(dropped).toEqual([
      ['deadline', 3],
      ['deadline', 3],
    ]);
    expect(batcher.stats).toMatchObject({ queueRows: 0, rowsRun: 30_003, rowsExpired: 6, rowsCancelled: 0 });
  });

  it('a call cancelled while queued is never run; an AbortSignal works as the signal', async () => {
    const { batcher, batches } = rowsSeen();
    const first = batcher.predict([parity.rows[0]!.features]);
    await new Promise((r) => setImmediate(r));
    const gone = { aborted: false };
    const controller = new AbortController();
    const a = batcher.predict([parity.rows[1]!.features], { signal: gone });
    const b = batcher.predict([parity.rows[2]!.features, parity.rows[3]!.features], { signal: controller.signal });
    const c = batcher.predict([parity.rows[4]!.features], { signal: controller.signal });
    gone.aborted = true;
    const [r0, ra, rb] = await Promise.allSettled([first, a, b]);
    await expect(c).resolves.toBeInstanceOf(Float64Array);
    expect(r0!.status).toBe('fulfilled');
    expect(((ra as PromiseRejectedResult).reason as ScorerError).code).toBe('CANCELLED');
    const pb = (rb as PromiseFulfilledResult<Float64Array>).value;
    expect([close(pb[0]!, 2), close(pb[1]!, 3)]).toEqual([true, true]);
    expect(batches).toEqual([1, 3]);
    expect(batcher.stats).toMatchObject({ rowsCancelled: 1, rowsRun: 4 });
  });

  it('a batch left with no row is not run at all', async () => {
    const { batcher, batches } = rowsSeen();
    const first = batcher.predict([parity.rows[0]!.features]);
    await new Promise((r) => setImmediate(r));
    const gone = { aborted: false };
    const queued = [1, 2, 3].map((i) => batcher.predict([parity.rows[i]!.features], { signal: gone }));
    gone.aborted = true;
    await first;
    for (const q of queued) await expect(q).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(batches).toEqual([1]);
    // And the batcher goes on.
    expect(close((await batcher.predict([parity.rows[5]!.features]))[0]!, 5)).toBe(true);
  });

  it('infer takes the same options', async () => {
    const { batcher } = rowsSeen();
    const { feeds } = schema.columnize([parity.rows[0]!.features]);
    await expect(batcher.infer(feeds, 1, { deadline: performance.now() - 1 })).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
    });
    await expect(batcher.infer(feeds, 1, { signal: { aborted: true } })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('Batcher admission by queue time', () => {
  const big = Array.from({ length: 30_000 }, (_, i) => parity.rows[i % parity.rows.length]!.features);

  it('estimates the wait from the runs so far: none when idle, the run in flight and the queue ahead when busy', async () => {
    const { batcher } = rowsSeen();
    expect(batcher.estimatedWaitMs()).toBe(0);
    // Runs of different sizes, so the fixed and per-row parts of a run's cost can be told apart.
    for (const n of [1, 64, 512, 1024]) await batcher.predict(big.slice(0, n));
    expect(batcher.estimatedWaitMs()).toBe(0);
    const running = batcher.predict(big);
    await new Promise((r) => setImmediate(r));
    const one = batcher.estimatedWaitMs();
    expect(one).toBeGreaterThan(0);
    const queued = batcher.predict(big.slice(0, 15_000));
    // 15,000 more rows ahead (in 15 more runs): the estimate grows by at least half. How much more
    // depends on the fitted fixed cost of a run, which the machine's load moves.
    const two = batcher.estimatedWaitMs();
    expect(two / one).toBeGreaterThan(1.3);
    // No run ends between these lines, so the fit stays put, and 15,000 more rows in 15 more runs
    // add what the first 15,000 did (to within one run's fixed cost, from the rounding of runs).
    const more = batcher.predict(big.slice(15_000, 30_000));
    const three = batcher.estimatedWaitMs();
    expect((three - two) / (two - one)).toBeGreaterThan(0.9);
    expect((three - two) / (two - one)).toBeLessThan(1.1);
    await Promise.all([running, queued, more]);
  });

  it('past maxQueueMs a call is refused at once with QUEUE_FULL, nothing queued', async () => {
    const { batcher } = rowsSeen({ maxQueueMs: 2 });
    for (const n of [1, 64, 512, 1024]) await batcher.predict(big.slice(0, n));
    expect(batcher.queueRefusal(1)).toBeUndefined();
    const running = batcher.predict(big);
    await new Promise((r) => setImmediate(r));
    // Asked first, the batcher names the refusal the call then gets.
    const foreseen = batcher.queueRefusal(1);
    expect(foreseen?.details).toMatchObject({ reason: 'queue_time', maxQueueMs: 2 });
    let refusedBeforeRun = false;
    const refused = batcher.predict([parity.rows[0]!.features]).catch((err: ScorerError) => {
      refusedBeforeRun = batcher.stats.inFlight === 1;
      return err;
    });
    const err = (await refused) as ScorerError;
    expect(err.code).toBe('QUEUE_FULL');
    expect(err.details).toMatchObject({ reason: 'queue_time', maxQueueMs: 2, estimatedWaitMs: expect.any(Number) });
    expect(err.message).toMatch(/^queue full: a run would start in about \d+ ms, past maxQueueMs \(2 ms\)$/);
    expect(refusedBeforeRun).toBe(true);
    expect(batcher.stats.queueRows).toBe(0);
    await running;
    // Idle again: accepted.
    await expect(batcher.predict([parity.rows[0]!.features])).resolves.toBeInstanceOf(Float64Array);
  });

  it('a call whose deadline would pass before its run starts is refused at once with DEADLINE_EXCEEDED', async () => {
    const { batcher } = rowsSeen();
    for (const n of [1, 64, 512, 1024]) await batcher.predict(big.slice(0, n));
    const running = batcher.predict(big);
    await new Promise((r) => setImmediate(r));
    const wait = batcher.estimatedWaitMs();
    const late = batcher.predict([parity.rows[0]!.features], { deadline: performance.now() + wait / 4 });
    const inTime = batcher.predict([parity.rows[1]!.features], { deadline: performance.now() + wait * 20 + 1000 });
    await expect(late).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      details: { estimatedWaitMs: expect.any(Number) },
    });
    expect(batcher.stats.inFlight).toBe(1);
    await expect(inTime).resolves.toBeInstanceOf(Float64Array);
    await running;
    expect(batcher.stats.rowsExpired).toBe(1);
  });
});

describe('Batcher.infer', () => {
  it('coalesces raw column feeds and cuts every output to the caller rows', async () => {
    const { batcher, batches } = rowsSeen();
    const chunks = [parity.rows.slice(0, 3), parity.rows.slice(3, 4), parity.rows.slice(4, 11)];
    const results = await Promise.all(
      chunks.map((chunk) => batcher.infer(schema.columnize(chunk.map((r) => r.features)).feeds, chunk.length)),
    );
    expect(batches).toEqual([11]);
    let i = 0;
    for (const [c, res] of results.entries()) {
      const probs = res[output.name]!;
      expect(probs.shape[0]).toBe(chunks[c]!.length);
      const width = probs.data.length / chunks[c]!.length;
      for (let r = 0; r < chunks[c]!.length; r++, i++) {
        expect(
          Math.abs(Number(probs.data[r * width + output.index]) - parity.rows[i]!.probability),
        ).toBeLessThanOrEqual(parity.tolerance);
      }
      if (card.output.label) expect(res[card.output.label]!.shape[0]).toBe(chunks[c]!.length);
    }
  });

  it('names the input in every feed error, before anything is queued', async () => {
    const batcher = new Batcher(model, schema, { output });
    const { feeds } = schema.columnize([parity.rows[0]!.features]);
    const first = model.inputs.find((i) => i.type !== 'string')!;
    await expect(batcher.infer({ ...feeds, bogus: new Float32Array(1) }, 1)).rejects.toMatchObject({
      code: 'UNKNOWN_INPUT',
      message: expect.stringContaining('bogus'),
    });
    const { [first.name]: _dropped, ...missing } = feeds;
    await expect(batcher.infer(missing as Feeds, 1)).rejects.toMatchObject({
      code: 'MISSING_INPUT',
      message: expect.stringContaining(first.name),
    });
    await expect(batcher.infer({ ...feeds, [first.name]: new Int32Array(1) }, 1)).rejects.toMatchObject({
      code: 'INPUT_TYPE_MISMATCH',
    });
    await expect(batcher.infer(feeds, 2)).rejects.toMatchObject({ code: 'INPUT_SHAPE_MISMATCH' });
    expect(batcher.stats).toMatchObject({ queueRows: 0, runs: 0 });
  });
});
