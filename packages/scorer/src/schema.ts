// FeatureSchema: JSON records -> the model's column feeds, with every bad field of every row
// reported at once. The schema comes from the model artifact (model card, then the ONNX file's
// own metadata, then its input signature), never from code: one source of truth for training
// and serving.
import { CategoryBytes, decodeCell, plainDecimal, trimBytes } from './cells.js';
import { ScorerError } from './errors.js';
import type { Model } from './model.js';
import type { ElementType, Feeds, TensorInfo } from './types.js';

export type FeatureKind = 'numeric' | 'categorical';

/** One feature, as the training pipeline writes it into model.json (`features`). */
export interface FeatureSpec {
  readonly name: string;
  readonly kind: FeatureKind;
  /** Element type of the ONNX input this feature feeds. */
  readonly dtype: ElementType;
  /** Numeric only: the value must be a whole number. */
  readonly integer?: boolean;
  readonly required: boolean;
  /**
   * Used when an optional feature is missing (absent or null). For a numeric feature, `null`
   * means "send NaN": the model imputes it inside its own graph.
   */
  readonly default?: number | string | null;
  /** Hard validity bounds (inclusive); null or absent means unbounded. */
  readonly min?: number | null;
  readonly max?: number | null;
  /** Categorical only: the allowed values. Absent means any string is accepted. */
  readonly categories?: readonly string[];
}

export type FeatureIssueCode =
  | 'not_an_object'
  | 'missing'
  | 'unknown_field'
  | 'wrong_type'
  | 'not_finite'
  | 'not_integer'
  | 'out_of_range'
  | 'unknown_category';

/** One problem with one field of one row. `got` is a short JSON rendering of the value. */
export interface FeatureIssue {
  readonly row: number;
  readonly field: string;
  readonly code: FeatureIssueCode;
  readonly expected: string;
  readonly got: string;
  readonly message: string;
}

/** Column buffers a schema writes into: one per model input, sized for `capacity` rows. */
export type Columns = Record<string, Float32Array | Float64Array | Int32Array | BigInt64Array | string[]>;

export interface SchemaOptions {
  /**
   * Fields that may appear in a record without being features (ids such as `customer_id`). They
   * are not sent to the model; as ids they must be a string, a finite number or null (anything
   * else is a `wrong_type` issue). Any other unknown field is an `unknown_field` issue: a
   * misspelt optional feature must not be silently imputed.
   */
  readonly passthrough?: readonly string[];
}

/** The parts of a model card (model.json) the schema reads. */
export interface ModelCardLike {
  readonly features?: readonly FeatureSpec[];
}

const NUMERIC_TYPES = new Set<ElementType>(['float32', 'float64', 'int32', 'int64']);
const MAX_GOT = 60;

function render(value: unknown): string {
  let s: string;
  if (value === undefined) s = 'undefined';
  else if (typeof value === 'number') s = Number.isNaN(value) ? 'NaN' : String(value);
  else if (typeof value === 'bigint') s = `${value}n`;
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = Object.prototype.toString.call(value);
    }
  }
  if (s.length <= MAX_GOT) return s;
  // Never cut a surrogate pair in two: half of one is not Unicode, and MessagePack (UTF-8) cannot carry it.
  let end = MAX_GOT - 1;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

type Writer = (value: unknown, at: number, row: number, issues: FeatureIssue[]) => void;

interface CompiledFeature {
  readonly spec: FeatureSpec;
  readonly write: Writer;
  /** Writes the missing-value outcome, or records a `missing` issue. */
  readonly writeMissing: (at: number, row: number, issues: FeatureIssue[]) => void;
  /** A categorical feature's column, for values already known to be among its categories. */
  readonly strings?: string[];
}

export class FeatureSchema {
  readonly features: readonly FeatureSpec[];
  readonly passthrough: ReadonlySet<string>;
  private readonly passthroughList: readonly string[];
  private readonly byName: ReadonlyMap<string, number>;
  /** One value per row for every input (fromSpecs checked it). */
  private readonly columns: readonly ColumnSpec[];

  private constructor(features: readonly FeatureSpec[], inputs: readonly TensorInfo[], options: SchemaOptions) {
    this.features = Object.freeze(features.map((f) => Object.freeze({ ...f })));
    this.columns = inputs.map((i) => ({ name: i.name, type: i.type, width: 1 }));
    this.byName = new Map(features.map((f, i) => [f.name, i]));
    this.passthrough = new Set(options.passthrough ?? []);
    this.passthroughList = [...this.passthrough];
    for (const p of this.passthrough) {
      if (this.byName.has(p)) {
        throw new ScorerError('INVALID_SCHEMA', `passthrough field "${p}" is also a feature`, { field: p });
      }
    }
  }

  /**
   * The schema of a loaded model: the model card's `features` when given, else the
   * `ortline.features` metadata the training pipeline embeds in the ONNX file, else one feature
   * per [N,1] input of the ONNX signature (no categories, no bounds: only types are checked).
   */
  static fromModel(
    model: Pick<Model, 'inputs' | 'metadata'>,
    card?: ModelCardLike | null,
    options: SchemaOptions = {},
  ): FeatureSchema {
    let specs: readonly FeatureSpec[] | undefined = card?.features;
    let source = 'model card';
    if (!specs) {
      const embedded = model.metadata.custom['ortline.features'];
      if (embedded !== undefined) {
        source = 'ONNX metadata ortline.features';
        try {
          specs = JSON.parse(embedded) as FeatureSpec[];
        } catch (err) {
          throw new ScorerError(
            'INVALID_SCHEMA',
            `ONNX metadata "ortline.features" is not valid JSON: ${(err as Error).message}`,
            { cause: err },
          );
        }
      }
    }
    if (!specs) {
      source = 'ONNX input signature';
      specs = model.inputs.map((input) => specFromInput(input));
    }
    return FeatureSchema.fromSpecs(specs, model.inputs, options, source);
  }

  /** A schema from explicit specs, checked against the model's inputs. */
  static fromSpecs(
    specs: readonly FeatureSpec[],
    inputs: readonly TensorInfo[],
    options: SchemaOptions = {},
    source = 'feature specs',
  ): FeatureSchema {
    if (!Array.isArray(specs) || specs.length === 0) {
      throw new ScorerError('INVALID_SCHEMA', `${source}: "features" must be a non-empty array`);
    }
    const inputByName = new Map(inputs.map((i) => [i.name, i]));
    const seen = new Set<string>();
    for (const [i, spec] of specs.entries()) {
      const where = `${source}: features[${i}]${spec && typeof spec.name === 'string' ? ` ("${spec.name}")` : ''}`;
      checkSpec(spec, where);
      if (seen.has(spec.name))
        throw new ScorerError('INVALID_SCHEMA', `${where}: duplicate feature name`, { field: spec.name });
      seen.add(spec.name);
      const input = inputByName.get(spec.name);
      if (!input) {
        throw new ScorerError('INVALID_SCHEMA', `${where}: the model has no input named "${spec.name}"`, {
          field: spec.name,
        });
      }
      if (input.type !== spec.dtype) {
        throw new ScorerError(
          'INVALID_SCHEMA',
          `${where}: dtype "${spec.dtype}" but the model input is "${input.type}"`,
          { field: spec.name },
        );
      }
      if (!oneValuePerRow(input)) {
        throw new ScorerError(
          'INVALID_SCHEMA',
          `${where}: input "${input.name}" has shape [${input.shape.join(', ')}]; a record feature needs one value per row ([N] or [N,1])`,
          { field: spec.name },
        );
      }
    }
    for (const input of inputs) {
      if (!seen.has(input.name)) {
        throw new ScorerError('INVALID_SCHEMA', `${source}: model input "${input.name}" has no feature`, {
          field: input.name,
        });
      }
    }
    return new FeatureSchema(specs, inputs, options);
  }

  /** Allocates empty column buffers for `capacity` rows, one per model input. */
  allocate(capacity: number): Columns {
    return allocateColumns(this.columns, capacity);
  }

  /** Every issue of every row; an empty array means the records are valid. */
  validate(records: readonly unknown[]): FeatureIssue[] {
    const issues: FeatureIssue[] = [];
    // Validation writes into scratch columns of one row: the same code path as columnize, so the
    // two cannot disagree.
    const scratch = this.allocate(1);
    for (let r = 0; r < records.length; r++) this.writeRow(records[r], scratch, 0, r, issues);
    return issues;
  }

  /** Records -> feeds for `model.run`. Throws INVALID_FEATURES listing every issue. */
  columnize(records: readonly unknown[]): { feeds: Feeds; rows: number } {
    const rows = records.length;
    const cols = this.allocate(rows);
    const issues: FeatureIssue[] = [];
    this.write(records, cols, 0, issues);
    if (issues.length > 0) throw invalidFeatures(issues);
    return { feeds: cols as Feeds, rows };
  }

  /**
   * Writes `records` into `cols` starting at row `offset`, appending issues (row numbers are
   * indexes into `records`). Rows with issues are still written as far as they go; the caller
   * discards the whole write when `issues` grew.
   */
  write(records: readonly unknown[], cols: Columns, offset: number, issues: FeatureIssue[]): void {
    for (let r = 0; r < records.length; r++) this.writeRow(records[r], cols, offset + r, r, issues);
  }

  /**
   * Writes rows of text cells (a CSV file's) into `cols` from row `offset`, through the same
   * writers, and with the same issues, as records get: feature k is cell `cellOf[k]` of each row
   * (-1: the file has no such column, so the value is missing). A cell is trimmed; an empty one is
   * a missing value; for a numeric feature, text that is a number is that number and any other
   * text is refused as the wrong type (as a JSON string would be); a categorical feature takes
   * the text. Rows with issues are written as far as they go, as by `write`.
   */
  writeText(
    rows: readonly (readonly string[])[],
    cellOf: Int32Array,
    cols: Columns,
    offset: number,
    issues: FeatureIssue[],
  ): void {
    const compiled = this.compiledChecked(cols, cellOf.length, 'cellOf');
    const n = compiled.length;
    const numeric = compiled.map((f) => f.spec.kind === 'numeric');
    for (let r = 0; r < rows.length; r++) {
      const cells = rows[r]!;
      const at = offset + r;
      for (let k = 0; k < n; k++) {
        const f = compiled[k]!;
        const c = cellOf[k]!;
        writeCell(f, numeric[k]!, c < 0 ? '' : (cells[c] ?? ''), at, r, issues);
      }
    }
  }

  /**
   * Writes rows of CSV cells given as byte ranges (UTF-8) into `cols` from row `offset`, with the
   * same columns and issues as `writeText` on the decoded cells: cell c of row i is
   * [starts[i * width + c], ends[i * width + c]) of `bytes`; feature k is cell `cellOf[k]` (-1:
   * missing); the rows written are `rows` (row indexes), and issue rows index `rows`. Plain
   * cells (ASCII-trimmed, decimal numbers of up to 15 digits, categories byte for byte) make no
   * string; any other cell is decoded and takes writeText's path.
   */
  writeBytes(
    bytes: Uint8Array,
    starts: Int32Array,
    ends: Int32Array,
    width: number,
    cellOf: Int32Array,
    rows: ArrayLike<number>,
    cols: Columns,
    offset: number,
    issues: FeatureIssue[],
  ): void {
    const compiled = this.compiledChecked(cols, cellOf.length, 'cellOf');
    const n = compiled.length;
    this.categoryBytes ??= this.features.map((f) => (f.categories ? new CategoryBytes(f.categories) : undefined));
    const span = new Int32Array(2);
    for (let k = 0; k < n; k++) {
      const f = compiled[k]!;
      const c = cellOf[k]!;
      const numeric = f.spec.kind === 'numeric';
      const categories = this.categoryBytes[k];
      for (let r = 0; r < rows.length; r++) {
        const at = offset + r;
        if (c < 0) {
          f.writeMissing(at, r, issues);
          continue;
        }
        const i = rows[r]! * width + c;
        if (trimBytes(bytes, starts[i]!, ends[i]!, span)) {
          const a = span[0]!;
          const b = span[1]!;
          if (a === b) {
            f.writeMissing(at, r, issues);
            continue;
          }
          if (numeric) {
            const v = plainDecimal(bytes, a, b);
            if (!Number.isNaN(v)) {
              f.write(v, at, r, issues);
              continue;
            }
          } else if (categories) {
            const v = categories.find(bytes, a, b);
            if (v !== undefined) {
              f.strings![at] = v; // one of the categories: nothing to check
              continue;
            }
          }
        }
        // Anything else is decoded, and read as writeText reads it (it also finds the issues).
        writeCell(f, numeric, decodeCell(bytes, starts[i]!, ends[i]!), at, r, issues);
      }
    }
  }

  /**
   * Writes rows of typed columns (a Parquet file's) into `cols` from row `offset`, through the
   * same writers, and with the same issues, as records get: feature k takes `sources[k][i]` for
   * each i in `rows` (a null source: the file has no such column, so the value is missing).
   * Values are typed, as JSON's are, so nothing is parsed: null is a missing value, a string in a
   * numeric feature is the wrong type. A bigint (a 64-bit integer column) is its number when it
   * is a safe integer and otherwise refused as the wrong type, never rounded. Issue rows index
   * `rows`. Rows with issues are written as far as they go, as by `write`.
   */
  writeColumns(
    sources: readonly (ArrayLike<unknown> | null)[],
    rows: ArrayLike<number>,
    cols: Columns,
    offset: number,
    issues: FeatureIssue[],
  ): void {
    const compiled = this.compiledChecked(cols, sources.length, 'sources');
    const n = compiled.length;
    for (let k = 0; k < n; k++) {
      const f = compiled[k]!;
      const source = sources[k];
      for (let r = 0; r < rows.length; r++) {
        const value = source ? source[rows[r]!] : undefined;
        if (value === undefined || value === null) f.writeMissing(offset + r, r, issues);
        else if (typeof value === 'bigint' && value >= MIN_SAFE && value <= MAX_SAFE)
          f.write(Number(value), offset + r, r, issues);
        else f.write(value, offset + r, r, issues);
      }
    }
  }

  private categoryBytes: (CategoryBytes | undefined)[] | undefined;
  private compiledCache: CompiledFeature[] | undefined;
  private compiledFor: Columns | undefined;

  private writeRow(record: unknown, cols: Columns, at: number, row: number, issues: FeatureIssue[]): void {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      issues.push({
        row,
        field: '',
        code: 'not_an_object',
        expected: 'an object of feature values',
        got: render(record),
        message: `row ${row}: expected an object of feature values, got ${typeName(record)}`,
      });
      return;
    }
    const rec = record as Record<string, unknown>;
    const compiled = this.compile(cols);
    let known = 0;
    for (const f of compiled) {
      const value = rec[f.spec.name];
      if (value === undefined || value === null) {
        if (value === null || Object.hasOwn(rec, f.spec.name)) known++;
        f.writeMissing(at, row, issues);
      } else {
        known++;
        f.write(value, at, row, issues);
      }
    }
    for (const p of this.passthroughList) {
      const id = rec[p];
      if (id === undefined || id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)))
        continue;
      issues.push({
        row,
        field: p,
        code: 'wrong_type',
        expected: 'a record id: a string, a finite number or null',
        got: render(id),
        message: `row ${row}: "${p}" must be a string or a number, got ${typeName(id)}`,
      });
    }
    // Unknown fields: only look when the record has more keys than the features it holds.
    const keys = Object.keys(rec);
    if (keys.length > known) {
      for (const k of keys) {
        if (!this.byName.has(k) && !this.passthrough.has(k)) {
          issues.push({
            row,
            field: k,
            code: 'unknown_field',
            expected: 'a feature of the model',
            got: render(rec[k]),
            message: `row ${row}: "${k}" is not a feature of this model`,
          });
        }
      }
    }
  }

  /** The writers bound to `cols`, after checking that `given` entries map the features (`option`). */
  private compiledChecked(cols: Columns, given: number, option: string): CompiledFeature[] {
    const compiled = this.compile(cols);
    const n = compiled.length;
    if (given !== n)
      throw new ScorerError('INVALID_OPTION', `${option} has ${given} entries for ${n} features`, { option });
    return compiled;
  }

  /** Per-feature writers bound to one set of columns; rebuilt only when the columns change. */
  private compile(cols: Columns): CompiledFeature[] {
    if (this.compiledFor === cols && this.compiledCache) return this.compiledCache;
    this.compiledCache = this.features.map((spec) => compileFeature(spec, cols[spec.name]!));
    this.compiledFor = cols;
    return this.compiledCache;
  }
}

/**
 * The number a cell's text writes in decimal (as JSON would read it), else NaN. `Number` alone
 * would also read `0x10` as 16, `0b11` as 3 and `0o7` as 7: numbers no CSV writer means.
 */
function decimal(text: string): number {
  if (text.length > 2 && text.charCodeAt(0) === 48 /* 0 */) {
    const radix = text.charCodeAt(1) | 0x20; // lower case
    if (radix === 0x78 /* x */ || radix === 0x62 /* b */ || radix === 0x6f /* o */) return Number.NaN;
  }
  return Number(text);
}

/**
 * One text cell through a feature's writer: trimmed; empty is missing; a numeric feature's text
 * is its decimal number, or (not one) the wrong type, as a JSON string would be.
 */
function writeCell(
  f: CompiledFeature,
  numeric: boolean,
  cell: string,
  at: number,
  row: number,
  issues: FeatureIssue[],
): void {
  const text = trimCell(cell);
  if (text === '') f.writeMissing(at, row, issues);
  else if (numeric) {
    const v = decimal(text);
    f.write(Number.isNaN(v) ? text : v, at, row, issues);
  } else f.write(text, at, row, issues);
}

/** The cell without surrounding white space; the common case (none) costs two comparisons. */
function trimCell(text: string): string {
  const n = text.length;
  if (n === 0 || (text.charCodeAt(0) > 32 && text.charCodeAt(n - 1) > 32)) return text;
  return text.trim();
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function invalidFeatures(issues: FeatureIssue[]): ScorerError {
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new ScorerError('INVALID_FEATURES', `invalid features: ${first.message}${more}`, { issues });
}

/** Product of the non-batch dimensions: how many values one row has in this input. */
/** A record feature is one value per row: an input of shape [N] or [N, 1]. */
function oneValuePerRow(input: TensorInfo): boolean {
  return input.shape.length === 1 || (input.shape.length === 2 && input.shape[1] === 1);
}

/** A column to allocate: its input's name, element type and values per row. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
  readonly width: number;
}

export function allocateColumns(inputs: readonly ColumnSpec[], capacity: number): Columns {
  const cols: Columns = {};
  for (const input of inputs) {
    const n = capacity * input.width;
    switch (input.type) {
      case 'float32':
        cols[input.name] = new Float32Array(n);
        break;
      case 'float64':
        cols[input.name] = new Float64Array(n);
        break;
      case 'int32':
        cols[input.name] = new Int32Array(n);
        break;
      case 'int64':
        cols[input.name] = new BigInt64Array(n);
        break;
      case 'string':
        cols[input.name] = new Array<string>(n).fill('');
        break;
      default:
        throw new ScorerError(
          'UNSUPPORTED_INPUT',
          `input "${input.name}" has element type ${input.type}; batching supports float32, float64, int32, int64 and string`,
          { input: input.name },
        );
    }
  }
  return cols;
}

function specFromInput(input: TensorInfo): FeatureSpec {
  if (input.type === 'string') return { name: input.name, kind: 'categorical', dtype: 'string', required: true };
  if (NUMERIC_TYPES.has(input.type)) {
    const integer = input.type === 'int32' || input.type === 'int64';
    return { name: input.name, kind: 'numeric', dtype: input.type, integer, required: true };
  }
  throw new ScorerError(
    'UNSUPPORTED_INPUT',
    `input "${input.name}" has element type ${input.type}, which has no feature mapping`,
    { input: input.name },
  );
}

function checkSpec(spec: FeatureSpec, where: string): void {
  const bad = (msg: string): never => {
    throw new ScorerError('INVALID_SCHEMA', `${where}: ${msg}`, { field: spec?.name });
  };
  if (spec === null || typeof spec !== 'object') bad('must be an object');
  if (typeof spec.name !== 'string' || spec.name === '') bad('"name" must be a non-empty string');
  if (typeof spec.required !== 'boolean') bad('"required" must be a boolean');
  if (spec.kind === 'numeric') {
    if (!NUMERIC_TYPES.has(spec.dtype)) bad(`numeric feature with dtype "${spec.dtype}"`);
    for (const k of ['min', 'max'] as const) {
      const v = spec[k];
      if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v)))
        bad(`"${k}" must be a finite number or null`);
    }
    if (spec.min != null && spec.max != null && spec.min > spec.max) bad('"min" is greater than "max"');
    if (spec.default !== undefined && spec.default !== null && typeof spec.default !== 'number')
      bad('"default" must be a number or null');
    if ((spec.dtype === 'int32' || spec.dtype === 'int64') && !spec.required && spec.default == null) {
      bad('an optional integer-typed feature needs a numeric default (NaN does not exist in integer tensors)');
    }
  } else if (spec.kind === 'categorical') {
    if (spec.dtype !== 'string') bad(`categorical feature with dtype "${spec.dtype}"; expected "string"`);
    if (
      spec.categories !== undefined &&
      (!Array.isArray(spec.categories) || spec.categories.some((c) => typeof c !== 'string'))
    ) {
      bad('"categories" must be an array of strings');
    }
    if (!spec.required) {
      if (typeof spec.default !== 'string') bad('an optional categorical feature needs a string default');
      if (spec.categories && !spec.categories.includes(spec.default as string))
        bad(`default "${spec.default}" is not one of its categories`);
    }
  } else {
    bad(`"kind" must be "numeric" or "categorical", got ${render(spec.kind)}`);
  }
}

function compileFeature(spec: FeatureSpec, col: Columns[string]): CompiledFeature {
  const name = spec.name;
  const issue = (
    row: number,
    code: FeatureIssueCode,
    expected: string,
    value: unknown,
    message: string,
    issues: FeatureIssue[],
  ) => {
    issues.push({ row, field: name, code, expected, got: render(value), message: `row ${row}: "${name}" ${message}` });
  };

  if (spec.kind === 'categorical') {
    const column = col as string[];
    const allowed = spec.categories ? new Set(spec.categories) : undefined;
    const expected = spec.categories ? `one of ${JSON.stringify(spec.categories)}` : 'a string';
    return {
      spec,
      strings: column,
      write(value, at, row, issues) {
        if (typeof value !== 'string') {
          issue(row, 'wrong_type', expected, value, `must be a string, got ${typeName(value)}`, issues);
        } else if (allowed && !allowed.has(value)) {
          issue(
            row,
            'unknown_category',
            expected,
            value,
            `has unknown category ${render(value)}; expected ${expected}`,
            issues,
          );
        } else {
          column[at] = value;
        }
      },
      writeMissing(at, row, issues) {
        if (spec.required) issue(row, 'missing', expected, undefined, 'is required', issues);
        else column[at] = spec.default as string;
      },
    };
  }

  const min = spec.min ?? -Infinity;
  const max = spec.max ?? Infinity;
  const integer = spec.integer === true || spec.dtype === 'int32' || spec.dtype === 'int64';
  let expected = integer ? 'an integer' : 'a finite number';
  if (spec.min != null && spec.max != null) expected += ` in [${spec.min}, ${spec.max}]`;
  else if (spec.min != null) expected += ` >= ${spec.min}`;
  else if (spec.max != null) expected += ` <= ${spec.max}`;
  // int32/int64 tensors cannot hold NaN: schemas for them must carry a default (checked above).
  const missingValue = (spec.default ?? NaN) as number; // checkSpec: a numeric default is a number

  const check = (value: unknown, row: number, issues: FeatureIssue[]): value is number => {
    if (typeof value !== 'number') {
      issue(row, 'wrong_type', expected, value, `must be a number, got ${typeName(value)}`, issues);
      return false;
    }
    if (!Number.isFinite(value)) {
      issue(row, 'not_finite', expected, value, `must be finite, got ${render(value)}`, issues);
      return false;
    }
    if (integer && !Number.isInteger(value)) {
      issue(row, 'not_integer', expected, value, `must be an integer, got ${value}`, issues);
      return false;
    }
    if (value < min || value > max) {
      issue(row, 'out_of_range', expected, value, `is out of range: ${value}; expected ${expected}`, issues);
      return false;
    }
    if (spec.dtype === 'int32' && (value < -2147483648 || value > 2147483647)) {
      issue(row, 'out_of_range', 'a 32-bit integer', value, `does not fit a 32-bit integer: ${value}`, issues);
      return false;
    }
    if (spec.dtype === 'int64' && !Number.isSafeInteger(value)) {
      issue(row, 'out_of_range', 'a safe integer', value, `is beyond 2^53 and would lose precision: ${value}`, issues);
      return false;
    }
    return true;
  };

  if (spec.dtype === 'int64') {
    const column = col as BigInt64Array;
    return {
      spec,
      write(value, at, row, issues) {
        if (check(value, row, issues)) column[at] = BigInt(value);
      },
      writeMissing(at, row, issues) {
        if (spec.required) issue(row, 'missing', expected, undefined, 'is required', issues);
        else column[at] = BigInt(missingValue);
      },
    };
  }
  const column = col as Float32Array | Float64Array | Int32Array;
  return {
    spec,
    write(value, at, row, issues) {
      if (check(value, row, issues)) column[at] = value;
    },
    writeMissing(at, row, issues) {
      if (spec.required) issue(row, 'missing', expected, undefined, 'is required', issues);
      else column[at] = missingValue;
    },
  };
}
