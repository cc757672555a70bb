// Model against real ONNX Runtime and the fixture models (test/fixtures, made by
// make_fixtures.py). Failures that poison a process (ONNX Runtime or the addon not loading) run
// in child processes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type Feeds, Model, ScorerError } from '../src/index.js';
import { loadBinding, ortLibraryCandidates, ortRuntime } from '../src/native.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string) => join(fixtures, name);
const packageDir = fileURLToPath(new URL('../', import.meta.url));

/** The error a promise rejects with or a function throws, checked to be a ScorerError. */
async function failure(p: Promise<unknown> | (() => unknown)): Promise<ScorerError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(ScorerError);
    return err as ScorerError;
  }
  throw new Error('expected a failure');
}

const models: Model[] = [];
async function load(name: string, options?: Parameters<typeof Model.load>[1]): Promise<Model> {
  const m = await Model.load(fixture(name), options);
  models.push(m);
  return m;
}
afterAll(() => {
  for (const m of models) m.close();
});

describe('Model.load', () => {
  it('describes inputs and outputs, dynamic dims as null', async () => {
    const m = await load('mixed.onnx');
    expect(m.inputs).toEqual([
      { name: 'a', type: 'float32', shape: [null, 2] },
      { name: 'b', type: 'float64', shape: [null, 1] },
      { name: 'c', type: 'int32', shape: [null, 1] },
    ]);
    expect(m.outputs).toEqual([
      { name: 'out', type: 'float64', shape: [null, 1] },
      { name: 'c2', type: 'int32', shape: [null, 1] },
    ]);
    expect(Object.isFrozen(m.inputs) && Object.isFrozen(m.inputs[0]!.shape)).toBe(true);
    expect(m.options).toEqual({
      intraOpThreads: 1,
      interOpThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
      sessions: 1,
      categoricalCodes: true,
      inlineBudgetMicros: 30,
    });
    expect(m.closed).toBe(false);
  });

  it("exposes the core's input plans: how each input is fed", async () => {
    const m = await load('mixed.onnx');
    expect(m.inputPlans).toEqual([
      {
        name: 'a',
        type: 'float32',
        batch: 'rows',
        fixedRows: null,
        dims: [2],
        width: 2,
        jsType: 'Float32Array',
        unsupported: null,
        categories: null,
      },
      {
        name: 'b',
        type: 'float64',
        batch: 'rows',
        fixedRows: null,
        dims: [1],
        width: 1,
        jsType: 'Float64Array',
        unsupported: null,
        categories: null,
      },
      {
        name: 'c',
        type: 'int32',
        batch: 'rows',
        fixedRows: null,
        dims: [1],
        width: 1,
        jsType: 'Int32Array',
        unsupported: null,
        categories: null,
      },
    ]);
    expect(Object.isFrozen(m.inputPlans) && Object.isFrozen(m.inputPlans[0])).toBe(true);
    const strings = await load('strings.onnx');
    expect(strings.inputPlans.map((p) => [p.name, p.jsType])).toEqual([['s', 'string']]);
    const int64 = await load('int64.onnx');
    expect(int64.inputPlans[0]).toMatchObject({ batch: 'rows', dims: [], width: 1, jsType: 'BigInt64Array' });
  });

  it("reads the model's metadata, custom metadata_props included", async () => {
    const m = await load('metadata.onnx');
    expect(m.metadata).toEqual({
      producerName: 'ortline-fixtures',
      producerVersion: '1.2.3',
      graphName: 'metadata_graph',
      domain: 'dev.ortline.fixtures',
      description: 'A fixture with every metadata field set.',
      version: 7,
      custom: {
        owner: 'ortline',
        'ortline.features': '[{"name":"x","kind":"numeric","dtype":"float32","required":true}]',
      },
    });
    expect((await load('affine.onnx')).metadata.custom).toEqual({});
  });

  it('loads from bytes (a view into a larger buffer) and synchronously, with the same result', async () => {
    const file = readFileSync(fixture('affine.onnx'));
    const big = new Uint8Array(file.length + 16);
    big.set(file, 8);
    const fromBytes = await Model.load(big.subarray(8, 8 + file.length));
    const sync = Model.loadSync(fixture('affine.onnx'), { sessions: 2, graphOptimizationLevel: 'basic' });
    models.push(fromBytes, sync);
    expect(fromBytes.inputs).toEqual(sync.inputs);
    const x = new Float32Array([1, 2, 3]);
    expect(Array.from(fromBytes.runSync({ x }, 1).y!.data as Float32Array)).toEqual([3, 5, 7]);
    expect(Array.from((await sync.run({ x }, 1)).y!.data as Float32Array)).toEqual([3, 5, 7]);
    expect(sync.options.sessions).toBe(2);
  });

  it('reports the ONNX Runtime it loaded', async () => {
    await load('affine.onnx');
    expect(ortRuntime()?.version).toMatch(/^1\.\d+\.\d+/);
  });
});

describe('run and runSync', () => {
  let affine: Model;
  beforeAll(async () => {
    affine = await load('affine.onnx');
  });

  it('computes float32 in place over a view into a larger buffer, and leaves the feed alone', async () => {
    const buffer = Float32Array.from({ length: 12 }, (_, i) => i);
    const view = buffer.subarray(3, 9); // byteOffset 12: the native side must honour it
    for (const out of [affine.runSync({ x: view }, 2), await affine.run({ x: view }, 2)]) {
      expect(out.y!.type).toBe('float32');
      expect(out.y!.shape).toEqual([2, 3]);
      expect(out.y!.data).toBeInstanceOf(Float32Array);
      expect(Array.from(out.y!.data as Float32Array)).toEqual([7, 9, 11, 13, 15, 17]);
    }
    expect(Array.from(buffer)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('returns every output with its own element type', async () => {
    const m = await load('two_outputs.onnx');
    const out = await m.run({ x: new Float32Array([1, 5, 2, 9, 0, -1]) }, 2);
    expect(Object.keys(out)).toEqual(['total', 'argmax']);
    expect(out.total).toEqual({ type: 'float32', shape: [2, 1], data: new Float32Array([8, 8]) });
    expect(out.argmax).toEqual({ type: 'int64', shape: [2, 1], data: new BigInt64Array([1n, 0n]) });
    const only = m.runSync({ x: new Float32Array([0, 0, 7]) }, 1, { outputs: ['argmax'] });
    expect(Object.keys(only)).toEqual(['argmax']);
    expect(only.argmax!.data).toEqual(new BigInt64Array([2n]));
  });

  it('feeds several inputs of float32, float64 and int32', async () => {
    const m = await load('mixed.onnx');
    const feeds = { c: new Int32Array([3, -4]), a: new Float32Array([1, 2, 10, 20]), b: new Float64Array([0.5, 0.25]) };
    const out = m.runSync(feeds, 2);
    expect(out.out!.data).toEqual(new Float64Array([6.5, 26.25]));
    expect(out.c2!.data).toEqual(new Int32Array([6, -8]));
  });

  it('feeds int64 as BigInt64Array without losing precision beyond 2^53', async () => {
    const m = await load('int64.onnx');
    const big = 2n ** 60n;
    const out = await m.run({ n: new BigInt64Array([0n, -5n, big]) }, 3);
    expect(out.m!.shape).toEqual([3]);
    expect(out.m!.data).toEqual(new BigInt64Array([1n, -14n, BigInt.asIntN(64, big * 3n + 1n)]));
  });

  it('feeds strings and returns strings, numbers and bools derived from them', async () => {
    const m = await load('strings.onnx');
    const s = ['yes', 'no', '', 'naïve ☃', 'maybe'];
    for (const out of [m.runSync({ s }, 5), await m.run({ s }, 5)]) {
      expect(out.echo).toEqual({ type: 'string', shape: [5, 1], data: s });
      expect(out.code!.data).toEqual(new BigInt64Array([1n, 0n, -1n, -1n, 2n]));
      expect(out.is_yes).toEqual({ type: 'bool', shape: [5, 1], data: new Uint8Array([1, 0, 0, 0, 0]) });
    }
    // The same shape again with other values: the native side refills its string tensor in place.
    for (const again of [
      ['maybe', 'x', 'a value long enough to live on the heap, not inline', 'yes', 'no'],
      ['', '', '', '', 'yes'],
    ]) {
      expect(m.runSync({ s: again }, 5).echo!.data).toEqual(again);
    }
  });

  it('hands large outputs over without a copy and small ones copied, both correct', async () => {
    for (const rows of [1, 1000]) {
      const x = Float32Array.from({ length: rows * 3 }, (_, i) => i % 97);
      const y = (await affine.run({ x }, rows)).y!.data as Float32Array; // 12 bytes, then 12000 bytes
      expect(y.length).toBe(rows * 3);
      expect(y.every((v, i) => v === x[i]! * 2 + 1)).toBe(true);
      y[0] = -1; // a plain, writable typed array that the caller owns
      expect(y[0]).toBe(-1);
    }
  });

  it('feeds bool as a Uint8Array of 0 and 1', async () => {
    const m = await load('bool.onnx');
    const out = m.runSync({ flag: new Uint8Array([1, 0]) }, 2);
    expect(out.flipped!.data).toEqual(new Uint8Array([0, 1]));
    expect(out.as_uint8).toEqual({ type: 'uint8', shape: [2, 1], data: new Uint8Array([1, 0]) });
    expect((await failure(() => m.runSync({ flag: new Uint8Array([2]) }, 1))).code).toBe('INPUT_TYPE_MISMATCH');
  });

  it('answers zero rows with empty outputs of the static shape and type', async () => {
    const m = await load('two_outputs.onnx');
    const out = await m.run({ x: new Float32Array(0) }, 0);
    expect(out.total).toEqual({ type: 'float32', shape: [0, 1], data: new Float32Array(0) });
    expect(out.argmax).toEqual({ type: 'int64', shape: [0, 1], data: new BigInt64Array(0) });
    const s = (await load('strings.onnx')).runSync({ s: [] }, 0);
    expect(s.echo!.data).toEqual([]);
  });

  it('keeps concurrent runs apart: every caller gets its own rows', async () => {
    const m = await load('affine.onnx', { sessions: 2 });
    const calls = Array.from({ length: 60 }, (_, i) => {
      const rows = 1 + (i % 4);
      const x = Float32Array.from({ length: rows * 3 }, (_, k) => i * 100 + k);
      return m.run({ x }, rows).then((out) => ({ x, y: out.y!.data as Float32Array }));
    });
    for (const { x, y } of await Promise.all(calls)) expect(Array.from(y)).toEqual(Array.from(x, (v) => v * 2 + 1));
  });

  it('queues runs past its sessions in JS, leaving libuv workers free for the rest of the process', async () => {
    const slow = await load('slow.onnx'); // one session
    const runs = Array.from({ length: 6 }, (_, i) => slow.run({ x: new Float32Array([3000 + i]) }, 1));
    await new Promise((r) => setTimeout(r, 10));
    // Six runs waiting on native workers would hold four of them; here one is busy.
    const started = performance.now();
    await readFile(fixture('affine.onnx'));
    const fileMs = performance.now() - started;
    const outs = await Promise.all(runs);
    const runsMs = performance.now() - started;
    for (const [i, out] of outs.entries()) expect(out.y!.data).toEqual(new Float32Array([3000 + i]));
    expect(fileMs).toBeLessThan(runsMs / 3);
  });

  it('a zero-row run answers at once, not behind the runs waiting for the session', async () => {
    const slow = await load('slow.onnx'); // one session
    let busyDone = false;
    const busy = slow.run({ x: new Float32Array([3000]) }, 1).then(() => (busyDone = true));
    const empty = await slow.run({ x: new Float32Array(0) }, 0);
    expect(busyDone).toBe(false);
    expect(empty.y).toEqual({ type: 'float32', shape: [0, 1], data: new Float32Array(0) });
    await busy;
  });

  it('a run waiting for a session can be aborted, and the others still run', async () => {
    const slow = await load('slow.onnx');
    const first = slow.run({ x: new Float32Array([3000]) }, 1);
    const ac = new AbortController();
    const queued = failure(slow.run({ x: new Float32Array([1e6]) }, 1, { signal: ac.signal }));
    const third = slow.run({ x: new Float32Array([7]) }, 1);
    ac.abort();
    expect((await queued).code).toBe('RUN_ABORTED');
    expect((await first).y!.data).toEqual(new Float32Array([3000]));
    expect((await third).y!.data).toEqual(new Float32Array([7]));
  });

  it('runs off the event loop: timers fire while a long run is in flight', async () => {
    const slow = await load('slow.onnx');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    const out = await slow.run({ x: new Float32Array([8000]) }, 1); // ~8000 MatMuls
    const elapsed = performance.now() - started;
    clearInterval(timer);
    expect(out.y!.data).toEqual(new Float32Array([8000]));
    // A blocked loop would tick at most once; a free one ticks about elapsed / 5 times.
    expect(elapsed).toBeGreaterThan(40);
    expect(ticks).toBeGreaterThanOrEqual(Math.min(5, Math.floor(elapsed / 20)));
  });
});

describe('abort and close', () => {
  it('an already aborted signal rejects with RUN_ABORTED without running', async () => {
    const slow = await load('slow.onnx');
    const ac = new AbortController();
    ac.abort(new Error('caller gave up'));
    const started = performance.now();
    const err = await failure(slow.run({ x: new Float32Array([1e6]) }, 1, { signal: ac.signal }));
    expect(err.code).toBe('RUN_ABORTED');
    expect((err.cause as Error).message).toBe('caller gave up');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('aborting ends a run in flight, and the model keeps serving', async () => {
    const slow = await load('slow.onnx');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const started = performance.now();
    const err = await failure(slow.run({ x: new Float32Array([1e6]) }, 1, { signal: ac.signal })); // ~20 s to completion
    expect(err.code).toBe('RUN_ABORTED');
    expect(performance.now() - started).toBeLessThan(5000);
    // The signal's listener is gone: aborting it again affects nothing.
    const out = await slow.run({ x: new Float32Array([3]) }, 1, { signal: new AbortController().signal });
    expect(out.y!.data).toEqual(new Float32Array([3]));
  });

  it('close: the run in flight finishes, the one waiting and every later call fail with MODEL_CLOSED', async () => {
    const slow = await Model.load(fixture('slow.onnx')); // one session
    const inFlight = slow.run({ x: new Float32Array([5000]) }, 1);
    await new Promise((r) => setTimeout(r, 20));
    const waiting = failure(slow.run({ x: new Float32Array([1]) }, 1)); // handled now: it rejects first
    await new Promise((r) => setTimeout(r, 20));
    slow.close();
    expect(slow.closed).toBe(true);
    expect((await inFlight).y!.data).toEqual(new Float32Array([5000]));
    expect((await waiting).code).toBe('MODEL_CLOSED');
    expect((await failure(slow.run({ x: new Float32Array([1]) }, 1))).code).toBe('MODEL_CLOSED');
    expect((await failure(() => slow.runSync({ x: new Float32Array([1]) }, 1))).code).toBe('MODEL_CLOSED');
    expect((await failure(() => slow.runSync({ x: new Float32Array(0) }, 0))).code).toBe('MODEL_CLOSED');
    slow.close();
  });
});

describe('errors name what is wrong', () => {
  let mixed: Model;
  const good = (): Feeds => ({ a: new Float32Array([1, 2]), b: new Float64Array([0.5]), c: new Int32Array([3]) });
  beforeAll(async () => {
    mixed = await load('mixed.onnx');
  });

  it('UNKNOWN_INPUT, MISSING_INPUT, INPUT_TYPE_MISMATCH, INPUT_SHAPE_MISMATCH name the input', async () => {
    const cases: [Feeds, number, string, RegExp][] = [
      [
        { ...good(), bogus: new Float32Array(1) },
        1,
        'UNKNOWN_INPUT',
        /"bogus" is not an input of the model \(inputs: a, b, c\)/,
      ],
      [{ a: good().a!, c: good().c! }, 1, 'MISSING_INPUT', /input "b" is missing/],
      [
        { ...good(), b: new Float32Array([0.5]) },
        1,
        'INPUT_TYPE_MISMATCH',
        /input "b" expects float64 \(Float64Array\), got Float32Array/,
      ],
      [
        { ...good(), c: [3] as unknown as Int32Array },
        1,
        'INPUT_TYPE_MISMATCH',
        /input "c" expects int32 \(Int32Array\), got an array/,
      ],
      [
        { ...good(), a: new Float32Array(3) },
        1,
        'INPUT_SHAPE_MISMATCH',
        /input "a" needs 2 values \(1 rows x 2\), got 3/,
      ],
      [good(), 2, 'INPUT_SHAPE_MISMATCH', /input "a" needs 4 values \(2 rows x 2\), got 2/],
    ];
    for (const [feeds, rows, code, message] of cases) {
      for (const err of [await failure(mixed.run(feeds, rows)), await failure(() => mixed.runSync(feeds, rows))]) {
        expect(err.code).toBe(code);
        expect(err.message).toMatch(message);
      }
    }
    expect((await failure(mixed.run({ ...good(), b: new Float32Array([0.5]) }, 1))).details).toMatchObject({
      input: 'b',
      expected: 'float64',
      got: 'Float32Array',
    });
  });

  it('strings: a non-string value and a value holding NUL are INPUT_TYPE_MISMATCH naming input and index', async () => {
    const m = await load('strings.onnx');
    const notString = await failure(() => m.runSync({ s: ['yes', 7 as unknown as string] }, 2));
    expect([notString.code, notString.message]).toEqual([
      'INPUT_TYPE_MISMATCH',
      'input "s" expects strings, got number at index 1',
    ]);
    for (const err of [
      await failure(() => m.runSync({ s: ['ok', 'b\0d'] }, 2)),
      await failure(m.run({ s: ['ok', 'b\0d'] }, 2)),
    ]) {
      expect(err.code).toBe('INPUT_TYPE_MISMATCH');
      expect(err.message).toMatch(/input "s": the value at index 1 holds a NUL character/);
    }
  });

  it('INVALID_ROWS and INVALID_FEEDS', async () => {
    for (const rows of [-1, 1.5, Number.NaN, '1' as unknown as number, 2 ** 32]) {
      expect((await failure(mixed.run(good(), rows))).code).toBe('INVALID_ROWS');
    }
    for (const feeds of [null, 'a', [new Float32Array(2)], new Float32Array(2)]) {
      expect((await failure(() => mixed.runSync(feeds as unknown as Feeds, 1))).code).toBe('INVALID_FEEDS');
    }
  });

  it('INVALID_OPTION names the option, for load and for run', async () => {
    const cases: [unknown, RegExp][] = [
      [{ threads: 2 }, /threads is not an option of Model.load/],
      [{ sessions: 0 }, /sessions must be an integer from 1 to 64, got 0/],
      [{ intraOpThreads: 1.5 }, /intraOpThreads must be an integer/],
      [{ graphOptimizationLevel: 'max' }, /graphOptimizationLevel must be one of disable, basic, extended, all/],
      [{ executionProviders: [] }, /executionProviders must be a non-empty array/],
      [{ ortLibraryPath: 5 }, /ortLibraryPath must be a non-empty string/],
      [{ categoricalCodes: 'yes' }, /categoricalCodes must be true or false, got string/],
      ['fast', /options must be an object/],
    ];
    for (const [options, message] of cases) {
      const err = await failure(Model.load(fixture('affine.onnx'), options as never));
      expect(err.code).toBe('INVALID_OPTION');
      expect(err.message).toMatch(message);
    }
    expect((await failure(mixed.run(good(), 1, { timeout: 5 } as never))).message).toMatch(
      /timeout is not a run option/,
    );
    expect((await failure(mixed.run(good(), 1, { outputs: ['nope'] }))).message).toMatch(
      /"nope", which is not an output of the model \(outputs: out, c2\)/,
    );
    expect((await failure(mixed.run(good(), 1, { signal: {} as AbortSignal }))).message).toMatch(
      /signal must be an AbortSignal/,
    );
  });

  it('native errors cross as structured values: code, message and details, no code in the text', () => {
    let thrown: unknown;
    try {
      loadBinding().loadModelSync(
        fixture('nope.onnx'),
        {
          intraOpThreads: 1,
          interOpThreads: 1,
          graphOptimizationLevel: 'all',
          executionProviders: ['cpu'],
          sessions: 1,
          categoricalCodes: true,
        },
        ortLibraryCandidates(undefined),
      );
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(Error);
    const e = thrown as Error & { code: string; details: unknown };
    expect(e.code).toBe('MODEL_FILE_NOT_FOUND');
    expect(e.message).toBe(`model file not found: ${fixture('nope.onnx')}`);
    expect(e.details).toEqual({});
  });

  it('MODEL_FILE_NOT_FOUND and MODEL_INVALID say which file', async () => {
    const missing = await failure(Model.load(fixture('nope.onnx')));
    expect(missing.code).toBe('MODEL_FILE_NOT_FOUND');
    expect(missing.message).toContain(fixture('nope.onnx'));
    expect((await failure(() => Model.loadSync(fixtures))).code).toBe('MODEL_FILE_NOT_FOUND');

    const dir = mkdtempSync(join(tmpdir(), 'ortline-model-test-'));
    try {
      const corrupt = join(dir, 'corrupt.onnx');
      writeFileSync(corrupt, 'this is not an ONNX model \u00ff');
      const err = await failure(Model.load(corrupt));
      expect(err.code).toBe('MODEL_INVALID');
      expect(err.message).toContain(corrupt);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const bytes = readFileSync(fixture('mixed.onnx'));
    expect((await failure(Model.load(bytes.subarray(0, bytes.length >> 1)))).code).toBe('MODEL_INVALID');
    expect((await failure(Model.load(new Uint8Array(0)))).code).toBe('MODEL_INVALID');
    expect((await failure(Model.load(42 as unknown as string))).code).toBe('MODEL_INVALID');
  });

  it('EP_UNAVAILABLE for an execution provider the library does not have, listing what it has', async () => {
    for (const ep of ['cuda', 'tpu']) {
      const err = await failure(Model.load(fixture('affine.onnx'), { executionProviders: [ep, 'cpu'] }));
      expect(err.code).toBe('EP_UNAVAILABLE');
      expect(err.message).toContain(ep);
      expect(err.message).toMatch(/has [^;]*cpu/);
    }
  });

  it('a second, different ONNX Runtime library in the same process is ORT_LIBRARY_INCOMPATIBLE', async () => {
    await load('affine.onnx');
    const loaded = ortRuntime()!.library;
    const same = await Model.load(fixture('affine.onnx'), { ortLibraryPath: loaded });
    same.close();
    const err = await failure(Model.load(fixture('affine.onnx'), { ortLibraryPath: fixture('affine.onnx') }));
    expect(err.code).toBe('ORT_LIBRARY_INCOMPATIBLE');
    expect(err.message).toMatch(/already loaded ONNX Runtime/);
  });

  it('every code thrown here is in the documented table', () => {
    for (const code of [
      'UNKNOWN_INPUT',
      'MISSING_INPUT',
      'INPUT_TYPE_MISMATCH',
      'INPUT_SHAPE_MISMATCH',
      'INVALID_ROWS',
      'INVALID_FEEDS',
      'MODEL_FILE_NOT_FOUND',
      'MODEL_INVALID',
      'INVALID_OPTION',
      'EP_UNAVAILABLE',
      'MODEL_CLOSED',
      'RUN_ABORTED',
      'RUN_FAILED',
      'ORT_LIBRARY_NOT_FOUND',
      'ORT_LIBRARY_INCOMPATIBLE',
      'NATIVE_LOAD_FAILED',
    ]) {
      expect(ERROR_CODES).toHaveProperty(code);
    }
    const e = new ScorerError('QUEUE_FULL', 'full', { cause: new Error('root'), depth: 3 });
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.code, (e.cause as Error).message, e.details?.depth]).toEqual([
      'ScorerError',
      'QUEUE_FULL',
      'root',
      3,
    ]);
  });
});

// Failures that must not happen in this process: ONNX Runtime loads once per process, and the
// addon is cached once loaded. Each runs in a fresh Node process against the built package.
describe('loading failures, each in a child process', () => {
  const dist = join(packageDir, 'dist/index.js');
  const child = (script: string, env: Record<string, string | undefined>) => {
    if (!existsSync(dist))
      throw new Error(`${dist} is missing: build the package first (pnpm --filter @ortline/scorer run build)`);
    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) childEnv[k] = v;
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import * as scorer from ${JSON.stringify(dist)};\n${script}`],
      { env: childEnv, encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  };
  const report = `const report = (e) => ({ code: e.code, message: e.message, name: e.name, causes: e.cause?.errors?.length });`;

  it('a missing ortLibraryPath is ORT_LIBRARY_NOT_FOUND listing the places looked; later loads still work', () => {
    const out = child(
      `${report}
      const first = await scorer.Model.load(${JSON.stringify(fixture('affine.onnx'))}, { ortLibraryPath: '/nonexistent/libonnxruntime.so.1' }).then(() => null, report);
      const after = await scorer.Model.load(${JSON.stringify(fixture('affine.onnx'))});
      console.log(JSON.stringify({ first, recovered: after.inputs[0].name }));`,
      { ORT_DYLIB_PATH: undefined },
    );
    const first = out.first as { code: string; message: string };
    expect(first.code).toBe('ORT_LIBRARY_NOT_FOUND');
    expect(first.message).toContain('/nonexistent/libonnxruntime.so.1 (ortLibraryPath option): not found');
    expect(first.message).toMatch(/onnxruntime-node\): not tried/);
    expect(first.message).toMatch(/Set ORT_DYLIB_PATH/);
    expect(out.recovered).toBe('x');
  });

  it('a wrong ORT_DYLIB_PATH is ORT_LIBRARY_NOT_FOUND naming it, not silently another library', () => {
    const out = child(
      `${report}\nconsole.log(JSON.stringify(await scorer.Model.load(${JSON.stringify(fixture('affine.onnx'))}).then(() => null, report)));`,
      {
        ORT_DYLIB_PATH: '/nonexistent/env/libonnxruntime.so.1',
      },
    );
    expect(out.code).toBe('ORT_LIBRARY_NOT_FOUND');
    expect(out.message).toContain('/nonexistent/env/libonnxruntime.so.1 (ORT_DYLIB_PATH): not found');
  });

  it('a file that is not ONNX Runtime is ORT_LIBRARY_INCOMPATIBLE', () => {
    const out = child(
      `${report}\nconsole.log(JSON.stringify(await scorer.Model.load(${JSON.stringify(fixture('affine.onnx'))}, { ortLibraryPath: ${JSON.stringify(fixture('affine.onnx'))} }).then(() => null, report)));`,
      { ORT_DYLIB_PATH: undefined },
    );
    expect(out.code).toBe('ORT_LIBRARY_INCOMPATIBLE');
    expect(out.message).toContain('is not a usable ONNX Runtime library');
  });

  it('a bogus ORTLINE_NATIVE_PATH is NATIVE_LOAD_FAILED with each attempt in its cause; the rest of the package still imports', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ortline-native-test-'));
    try {
      const bogus = join(dir, 'bogus.node');
      writeFileSync(bogus, 'not a shared object');
      const out = child(
        `${report}
        const schema = scorer.FeatureSchema.fromSpecs([{ name: 'x', kind: 'numeric', dtype: 'float32', required: true }], [{ name: 'x', type: 'float32', shape: [null, 1] }]);
        const err = await scorer.Model.load(${JSON.stringify(fixture('affine.onnx'))}).then(() => null, report);
        console.log(JSON.stringify({ ...err, rows: schema.columnize([{ x: 1 }]).rows }));`,
        { ORTLINE_NATIVE_PATH: bogus },
      );
      expect(out.code).toBe('NATIVE_LOAD_FAILED');
      expect(out.message).toContain(`ORTLINE_NATIVE_PATH=${bogus}`);
      expect(out.causes).toBe(1);
      expect(out.rows).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
