import { describe, expect, it } from 'vitest';
import { FeatureSchema, type FeatureSpec, ScorerError, type TensorInfo } from '../src/index.js';

const specs: FeatureSpec[] = [
  { name: 'tenure', kind: 'numeric', dtype: 'float32', integer: true, required: true, min: 0, max: null },
  { name: 'MonthlyCharges', kind: 'numeric', dtype: 'float32', required: true, min: 0, max: 1000 },
  { name: 'TotalCharges', kind: 'numeric', dtype: 'float32', required: false, default: null, min: 0 },
  { name: 'Discount', kind: 'numeric', dtype: 'float64', required: false, default: 0.5 },
  { name: 'Lines', kind: 'numeric', dtype: 'int64', required: false, default: 1, min: 0 },
  {
    name: 'Contract',
    kind: 'categorical',
    dtype: 'string',
    required: true,
    categories: ['Month-to-month', 'One year', 'Two year'],
  },
  {
    name: 'Region',
    kind: 'categorical',
    dtype: 'string',
    required: false,
    default: 'none',
    categories: ['none', 'north', 'south'],
  },
];
const inputs: TensorInfo[] = specs.map((s) => ({ name: s.name, type: s.dtype, shape: [null, 1] }));
const good = {
  tenure: 24,
  MonthlyCharges: 70.5,
  TotalCharges: 1692,
  Discount: 0.25,
  Lines: 2,
  Contract: 'One year',
  Region: 'north',
};

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ScorerError);
    expect((err as ScorerError).code).toBe('INVALID_FEATURES');
    return (
      err as ScorerError & {
        details: { issues: { row: number; field: string; code: string; expected: string; got: string }[] };
      }
    ).details.issues;
  }
  throw new Error('expected INVALID_FEATURES');
}

describe('FeatureSchema.columnize', () => {
  const schema = FeatureSchema.fromSpecs(specs, inputs, { passthrough: ['customer_id'] });

  it('writes each feature into its own typed column, row by row', () => {
    const { feeds, rows } = schema.columnize([good, { ...good, tenure: 1, Contract: 'Two year', Lines: 7 }]);
    expect(rows).toBe(2);
    expect(feeds.tenure).toBeInstanceOf(Float32Array);
    expect(Array.from(feeds.tenure as Float32Array)).toEqual([24, 1]);
    expect((feeds.MonthlyCharges as Float32Array)[0]).toBeCloseTo(70.5, 5);
    expect(feeds.Discount).toBeInstanceOf(Float64Array);
    expect(feeds.Lines).toEqual(new BigInt64Array([2n, 7n]));
    expect(feeds.Contract).toEqual(['One year', 'Two year']);
  });

  it('fills optional features: NaN for a null numeric default, the default otherwise; null counts as missing', () => {
    const { feeds } = schema.columnize([{ tenure: 0, MonthlyCharges: 20, Contract: 'One year', TotalCharges: null }]);
    expect(Number.isNaN((feeds.TotalCharges as Float32Array)[0])).toBe(true);
    expect((feeds.Discount as Float64Array)[0]).toBe(0.5);
    expect((feeds.Lines as BigInt64Array)[0]).toBe(1n);
    expect((feeds.Region as string[])[0]).toBe('none');
  });

  it('accepts passthrough ids without sending them to the model', () => {
    const { feeds } = schema.columnize([{ ...good, customer_id: 'C1' }]);
    expect(Object.keys(feeds).sort()).toEqual(specs.map((s) => s.name).sort());
  });

  it('shortens what it got without cutting a character in two', () => {
    // 𝓣 is two UTF-16 units; 𝓣 × 40 rendered as JSON is 82 units long, cut near 60.
    for (const pad of ['', 'a']) {
      const issues = issuesOf(() => schema.columnize([{ ...good, Contract: pad + '𝓣'.repeat(40) }]));
      const got = issues.find((i) => i.field === 'Contract')!.got;
      expect(got.endsWith('…')).toBe(true);
      expect(got.length).toBeLessThanOrEqual(60);
      expect(got).not.toMatch(/\p{Cs}/u);
    }
  });

  it('takes a string, a finite number or null as a passthrough id, and names any other', () => {
    expect(schema.columnize([7, 'C1', null, 1.5].map((customer_id) => ({ ...good, customer_id }))).rows).toBe(4);
    const issues = issuesOf(() =>
      schema.columnize([{ a: 1 }, true, [1], Number.NaN].map((customer_id) => ({ ...good, customer_id }))),
    );
    expect(issues.map((i) => `${i.row}:${i.field}:${i.code}`)).toEqual([
      '0:customer_id:wrong_type',
      '1:customer_id:wrong_type',
      '2:customer_id:wrong_type',
      '3:customer_id:wrong_type',
    ]);
    expect((issues[0] as { message?: string }).message).toBe(
      'row 0: "customer_id" must be a string or a number, got object',
    );
  });

  it('reports every bad field of every row at once, with row, field, expected and got', () => {
    const issues = issuesOf(() =>
      schema.columnize([
        good,
        { MonthlyCharges: '70', Contract: 'Weekly', tenure: 1.5, extra: true },
        { ...good, tenure: -1, MonthlyCharges: 1000.01, Lines: 2.5, Region: 7 },
        'not a record',
      ]),
    );
    const brief = issues.map((i) => `${i.row}:${i.field}:${i.code}`).sort();
    expect(brief).toEqual(
      [
        '1:MonthlyCharges:wrong_type',
        '1:Contract:unknown_category',
        '1:tenure:not_integer',
        '1:extra:unknown_field',
        '2:tenure:out_of_range',
        '2:MonthlyCharges:out_of_range',
        '2:Lines:not_integer',
        '2:Region:wrong_type',
        '3::not_an_object',
      ].sort(),
    );
    const contract = issues.find((i) => i.field === 'Contract')!;
    expect(contract.got).toBe('"Weekly"');
    expect(contract.expected).toContain('Month-to-month');
    const charges = issues.find((i) => i.row === 1 && i.field === 'MonthlyCharges')!;
    expect(charges.got).toBe('"70"');
  });

  it('rejects a missing required field and never coerces', () => {
    const issues = issuesOf(() =>
      schema.columnize([
        { MonthlyCharges: 5, Contract: 'One year', tenure: true },
        { tenure: 3, Contract: 'One year' },
      ]),
    );
    expect(issues.map((i) => `${i.row}:${i.field}:${i.code}`)).toEqual([
      '0:tenure:wrong_type',
      '1:MonthlyCharges:missing',
    ]);
  });

  it('rejects NaN and Infinity (which JSON cannot carry but msgpack and JS callers can)', () => {
    const issues = issuesOf(() =>
      schema.columnize([{ ...good, MonthlyCharges: NaN, TotalCharges: Infinity, Discount: -Infinity }]),
    );
    expect(issues.map((i) => `${i.field}:${i.code}`).sort()).toEqual([
      'Discount:not_finite',
      'MonthlyCharges:not_finite',
      'TotalCharges:not_finite',
    ]);
  });

  it('rejects integers that int64 columns would round', () => {
    const issues = issuesOf(() => schema.columnize([{ ...good, Lines: 2 ** 53 + 2 }]));
    expect(issues[0]).toMatchObject({ field: 'Lines', code: 'out_of_range' });
  });

  it('validate() returns the same issues without throwing; [] for good rows', () => {
    expect(schema.validate([good, good])).toEqual([]);
    expect(schema.validate([{ ...good, Contract: 'x' }]).map((i) => i.code)).toEqual(['unknown_category']);
  });
});

describe('FeatureSchema.writeText', () => {
  const schema = FeatureSchema.fromSpecs(specs, inputs);
  // A file's columns in another order than the schema's, with one it does not know and none for Region.
  const header = ['Contract', 'id', 'tenure', 'MonthlyCharges', 'TotalCharges', 'Discount', 'Lines'];
  const cellOf = Int32Array.from(specs, (f) => header.indexOf(f.name));

  it('writes text cells as the JSON API would take their values: the same columns and the same issues', () => {
    const rows = [
      ['One year', 'a', '24', '70.5', '1692', '0.25', '2'], // good
      [' Two year ', 'b', ' 3 ', '20', '', '', ''], // trimmed; empty cells missing: defaults
      ['Weekly', 'c', '-1', 'lots', '1e999', '0.5', '1.5'], // every kind of bad value
      ['', 'd', '', '', 'x', '', ''], // required ones missing
    ];
    const records = [
      { Contract: 'One year', tenure: 24, MonthlyCharges: 70.5, TotalCharges: 1692, Discount: 0.25, Lines: 2 },
      { Contract: 'Two year', tenure: 3, MonthlyCharges: 20 },
      {
        Contract: 'Weekly',
        tenure: -1,
        MonthlyCharges: 'lots',
        TotalCharges: Number.POSITIVE_INFINITY,
        Discount: 0.5,
        Lines: 1.5,
      },
      { TotalCharges: 'x' },
    ];
    const fromText = schema.allocate(rows.length);
    const textIssues: unknown[] = [];
    schema.writeText(rows, cellOf, fromText, 0, textIssues as never);
    const fromRecords = schema.allocate(records.length);
    const recordIssues: unknown[] = [];
    schema.write(records, fromRecords, 0, recordIssues as never);
    expect(textIssues).toEqual(recordIssues);
    expect(textIssues.length).toBeGreaterThan(6);
    expect(fromText).toEqual(fromRecords);
    // The good rows' values, as written.
    expect(Array.from(fromText.tenure as Float32Array).slice(0, 2)).toEqual([24, 3]);
    expect((fromText.Region as string[]).slice(0, 2)).toEqual(['none', 'none']);
  });

  it('reads numbers in decimal only: 0x, 0b and 0o text is the wrong type, as a JSON string is', () => {
    const rows = [
      ['One year', 'a', '0x10', '0b11', '0o7', '0', '0X1'],
      ['One year', 'b', '010', '1e2', '.5', '-0', '2'],
    ];
    const cols = schema.allocate(rows.length);
    const issues: { row: number; field: string; code: string }[] = [];
    schema.writeText(rows, cellOf, cols, 0, issues as never);
    expect(issues.filter((i) => i.row === 0).map((i) => [i.field, i.code])).toEqual([
      ['tenure', 'wrong_type'],
      ['MonthlyCharges', 'wrong_type'],
      ['TotalCharges', 'wrong_type'],
      ['Lines', 'wrong_type'],
    ]);
    // Decimal text, leading zeros and exponents included, is read as JSON's numbers would be.
    expect(issues.filter((i) => i.row === 1)).toEqual([]);
    expect(Array.from(cols.tenure as Float32Array)[1]).toBe(10);
    expect(Array.from(cols.MonthlyCharges as Float32Array)[1]).toBe(100);
  });

  it('refuses a cell map that does not cover every feature', () => {
    expect(() => schema.writeText([], new Int32Array(2), schema.allocate(0), 0, [])).toThrow(ScorerError);
  });
});

/**
 * Cells as a file holds them: their UTF-8 bytes back to back, a comma between (never part of a
 * range), and each cell's range.
 */
function cellBytes(cells: readonly string[]): { bytes: Uint8Array; starts: Int32Array; ends: Int32Array } {
  const encoder = new TextEncoder();
  const parts = cells.map((c) => encoder.encode(c));
  const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length + 1, 0));
  const starts = new Int32Array(parts.length);
  const ends = new Int32Array(parts.length);
  let at = 0;
  parts.forEach((p, i) => {
    starts[i] = at;
    bytes.set(p, at);
    at += p.length;
    ends[i] = at;
    bytes[at++] = 44;
  });
  return { bytes, starts, ends };
}

describe('FeatureSchema.writeBytes', () => {
  const schema = FeatureSchema.fromSpecs(specs, inputs);
  const header = ['Contract', 'id', 'tenure', 'MonthlyCharges', 'TotalCharges', 'Discount', 'Lines', 'Region'];
  const cellOf = Int32Array.from(specs, (f) => header.indexOf(f.name));
  // Cells of every kind each path must agree on: plain, padded, other number forms, non-ASCII,
  // Unicode white space, exact and near categories, empty ones.
  const numbers = ['24', '-0', '0.5', '70.25', '010', '1.', '.5', '1e3', '0x10', ' 7 ', '\t3\r', '-', '+5', 'NaN'];
  const more = ['Infinity', '12345678901234567', '0.1234567890123456', '999999999999999', '1.000000000000001'];
  const wide = ['\u00a05', '5\u00a0', '\u0661', '1_000', '9007199254740993', '-3', '1692.0', '', '   ', 'x'];
  const contracts = ['One year', ' Two year ', 'one year', 'Month-to-month', '\ufeffOne year', 'Weekly', 'Mon\u00e9'];
  const regions = ['north', 'south\r', 'none', '\u2003north', 'nörth', '', 'South'];
  const pools = [contracts, ['a', 'b,c'], [...numbers, ...more, ...wide], [...numbers, ...wide], [...numbers, ...more]];
  let seed = 7;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const pick = (pool: readonly string[]) => pool[rand(pool.length)]!;

  it('gives the columns and issues writeText gives for the same cells, whatever the cells', () => {
    const rows = Array.from({ length: 3000 }, () => [
      pick(contracts),
      `id${rand(100)}`,
      pick(pools[2]!),
      pick(pools[3]!),
      pick(pools[4]!),
      pick(numbers),
      pick([...numbers, '2', '3']),
      pick(regions),
    ]);
    const { bytes, starts, ends } = cellBytes(rows.flat());
    const picked = rows.map((_, i) => i).filter((i) => i % 3 !== 1); // every row but each third
    const fromText = schema.allocate(picked.length);
    const textIssues: unknown[] = [];
    schema.writeText(
      picked.map((i) => rows[i]!),
      cellOf,
      fromText,
      0,
      textIssues as never,
    );
    const fromBytes = schema.allocate(picked.length);
    const byteIssues: unknown[] = [];
    schema.writeBytes(bytes, starts, ends, header.length, cellOf, picked, fromBytes, 0, byteIssues as never);
    const order = (list: unknown[]) => [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(order(byteIssues)).toEqual(order(textIssues));
    expect(byteIssues.length).toBeGreaterThan(500);
    expect(fromBytes).toEqual(fromText);
    // -0 stays -0 (toEqual tells them apart), and plain numbers are exact.
    const tenure = Array.from(fromBytes.tenure as Float32Array);
    expect(tenure.some((v) => Object.is(v, -0))).toBe(true);
  });

  it('finds categories among many (hashed) as among few, and only exact ones', () => {
    const many = Array.from({ length: 40 }, (_, i) => `city-${i}-${'é'.repeat(i % 3)}`);
    const citySpecs: FeatureSpec[] = [
      { name: 'City', kind: 'categorical', dtype: 'string', required: true, categories: many },
    ];
    const city = FeatureSchema.fromSpecs(citySpecs, [{ name: 'City', type: 'string', shape: [null, 1] }]);
    const cells = [...many, 'city-1', 'city-40', ' city-3- ', 'City-0-', '', 'city-2-éé'];
    const { bytes, starts, ends } = cellBytes(cells);
    const rows = cells.map((_, i) => i);
    const fromBytes = city.allocate(cells.length);
    const byteIssues: { row: number; code: string }[] = [];
    city.writeBytes(bytes, starts, ends, 1, Int32Array.of(0), rows, fromBytes, 0, byteIssues as never);
    const fromText = city.allocate(cells.length);
    const textIssues: unknown[] = [];
    city.writeText(
      cells.map((c) => [c]),
      Int32Array.of(0),
      fromText,
      0,
      textIssues as never,
    );
    expect(byteIssues).toEqual(textIssues);
    expect(fromBytes).toEqual(fromText);
    expect((fromBytes.City as string[]).slice(0, 40)).toEqual(many);
    expect(byteIssues.map((i) => [i.row, i.code])).toEqual([
      [40, 'unknown_category'],
      [41, 'unknown_category'],
      [43, 'unknown_category'],
      [44, 'missing'],
    ]);
  });

  it('reads plain decimals exactly as Number() does, and leaves every other form to it', () => {
    const texts = ['0.1', '0.7', '1.15', '-2.675', '123456789012345', '99999999.9999999', '0.000001'];
    for (let i = 0; i < 2000; i++) texts.push((rand(1e9) / 10 ** rand(9)).toFixed(rand(8)));
    for (const t of texts) {
      const cols = schema.allocate(1);
      // Discount is float64: nothing rounds the value on the way into the column.
      const row = ['One year', 'a', '1', '1', '', t, '', ''];
      const { bytes, starts, ends } = cellBytes(row);
      const issues: unknown[] = [];
      schema.writeBytes(bytes, starts, ends, row.length, cellOf, [0], cols, 0, issues as never);
      expect(issues, t).toEqual([]);
      expect((cols.Discount as Float64Array)[0], t).toBe(Number(t));
    }
  });
});

describe('FeatureSchema.writeColumns', () => {
  const schema = FeatureSchema.fromSpecs(specs, inputs);
  const byRow = (a: { row: number }, b: { row: number }) => a.row - b.row;

  it('writes typed columns as the JSON API takes the same values: the same columns and the same issues', () => {
    // Column-major, as a Parquet row group arrives; 64-bit integers as bigints; Region absent.
    const column = {
      tenure: [24n, 3n, -1n, null, 7n],
      MonthlyCharges: new Float64Array([70.5, 20, Number.NaN, 1, 2]),
      TotalCharges: [1692, null, 'x', null, 3],
      Discount: [0.25, null, 0.5, null, 1],
      Lines: [2n, null, 9007199254740993n, null, true],
      Contract: ['One year', 'Two year', 'Weekly', null, ' One year'],
    };
    const sources = specs.map((f) => (column as Record<string, ArrayLike<unknown>>)[f.name] ?? null);
    // Rows 4, 0, 1, 2, 3 in that order: `rows` picks from the columns, the output is in its order.
    const rows = [4, 0, 1, 2, 3];
    const records = rows.map((i) => {
      const r: Record<string, unknown> = {};
      for (const [name, values] of Object.entries(column)) {
        const v = values[i];
        if (v !== null) r[name] = typeof v === 'bigint' && name !== 'Lines' ? Number(v) : v;
      }
      return r;
    });
    // Only the unsafe integer stays a bigint in the records: JSON would have no such number.
    expect(records.map((r) => typeof r.Lines)).toEqual(['boolean', 'bigint', 'undefined', 'bigint', 'undefined']);
    records[1]!.Lines = 2;
    const fromColumns = schema.allocate(rows.length);
    const columnIssues: { row: number; code: string }[] = [];
    schema.writeColumns(sources, rows, fromColumns, 0, columnIssues as never);
    const fromRecords = schema.allocate(rows.length);
    const recordIssues: { row: number; code: string }[] = [];
    schema.write(records, fromRecords, 0, recordIssues as never);
    expect(columnIssues.sort(byRow)).toEqual(recordIssues.sort(byRow));
    expect(fromColumns).toEqual(fromRecords);
    // Row by row: the good ones, and why the others are not.
    const codes = (row: number) => columnIssues.filter((i) => i.row === row).map((i) => i.code);
    expect(codes(1)).toEqual([]);
    expect(codes(2)).toEqual([]);
    expect(codes(0).sort()).toEqual(['unknown_category', 'wrong_type']); // a boolean; no trimming
    expect(codes(3).sort()).toEqual(['not_finite', 'out_of_range', 'unknown_category', 'wrong_type', 'wrong_type']);
    expect(codes(4).sort()).toEqual(['missing', 'missing']);
    expect(Array.from(fromColumns.tenure as Float32Array).slice(1, 3)).toEqual([24, 3]);
    expect((fromColumns.Lines as BigInt64Array)[1]).toBe(2n);
    expect((fromColumns.Region as string[])[1]).toBe('none');
  });

  it('refuses a source list that does not cover every feature', () => {
    expect(() => schema.writeColumns([null], [], schema.allocate(0), 0, [])).toThrow(ScorerError);
  });
});

describe('FeatureSchema construction', () => {
  it('falls back to the ONNX signature: one feature per [N,1] input, types only', () => {
    const schema = FeatureSchema.fromModel({
      inputs: [
        { name: 'a', type: 'float32', shape: [null, 1] },
        { name: 'b', type: 'string', shape: [null, 1] },
        { name: 'c', type: 'int64', shape: [null] },
      ],
      metadata: { producerName: '', graphName: '', domain: '', description: '', version: null, custom: {} },
    } as never);
    expect(schema.features.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['a', 'numeric', true],
      ['b', 'categorical', true],
      ['c', 'numeric', true],
    ]);
    expect(schema.validate([{ a: 1, b: 'anything', c: 1.5 }]).map((i) => i.code)).toEqual(['not_integer']);
  });

  it('reads ortline.features from the ONNX metadata when there is no card', () => {
    const schema = FeatureSchema.fromModel({
      inputs,
      metadata: {
        producerName: '',
        graphName: '',
        domain: '',
        description: '',
        version: null,
        custom: { 'ortline.features': JSON.stringify(specs) },
      },
    } as never);
    expect(schema.features.find((f) => f.name === 'Contract')?.categories).toEqual([
      'Month-to-month',
      'One year',
      'Two year',
    ]);
  });

  it.each([
    [
      'a feature with no input',
      [...specs, { name: 'ghost', kind: 'numeric', dtype: 'float32', required: true }],
      /no input named "ghost"/,
    ],
    ['an input with no feature', specs.slice(1), /input "tenure" has no feature/],
    [
      'a dtype that differs from the input',
      [{ ...specs[0]!, dtype: 'float64' }, ...specs.slice(1)],
      /dtype "float64" but the model input is "float32"/,
    ],
    [
      'an optional categorical without a default',
      [...specs.slice(0, 5), { ...specs[5]!, required: false }, specs[6]!],
      /needs a string default/,
    ],
    ['a bad kind', [{ ...specs[0]!, kind: 'ordinal' }, ...specs.slice(1)], /"kind" must be/],
  ])('rejects %s with INVALID_SCHEMA', (_what, bad, message) => {
    let err: unknown;
    try {
      FeatureSchema.fromSpecs(bad as FeatureSpec[], inputs);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScorerError);
    expect((err as ScorerError).code).toBe('INVALID_SCHEMA');
    expect((err as Error).message).toMatch(message);
  });

  it('rejects an input whose rows hold more than one value', () => {
    expect(() => FeatureSchema.fromSpecs([specs[0]!], [{ name: 'tenure', type: 'float32', shape: [null, 3] }])).toThrow(
      /one value per row/,
    );
  });
});
