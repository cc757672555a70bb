// Cache keys: `<prefix>{<model>:<version>}:<hash>`, where the hash covers one row's canonical
// feature values, i.e. the values after validation and columnization, exactly what the model would
// be fed. So field order, `24` vs `24.0`, an omitted optional feature vs its explicit default, and
// id fields (customer_id) all give the same key, and anything the model would see differently
// gives a different one. The version is in the key: a new version never reads an old one's
// answers. So is the model file: its SHA-256 leads the hashed bytes, so a version folder whose
// model.onnx was replaced (unloaded, rewritten, loaded again) never reads the old file's answers,
// in this process's L1 or in a shared L2.
//
// The hash is SHA-256 (node:crypto, one-shot `hash()`), truncated to 22 base64url characters
// (132 bits). Why a cryptographic hash: clients choose the feature values, and with a fast
// non-cryptographic hash (xxHash, Murmur) a client could craft a row that collides with another
// customer's and have its score served for it; with SHA-256 that is infeasible, and 132 bits
// put accidental collisions far out of reach too (birthday bound ~2^66 rows). Encoding and hashing
// cost about 0.85 µs per row on the development machine (bench/src/cache.mjs measures it), most
// of it the call into OpenSSL.
//
// Canonical bytes of one row, in the schema's feature order (fixed per version):
//   categorical with a category list: the category's index, as a float64
//   categorical without one: 0xFFFFFFFF marker as float64, then the UTF-8 length (float64) and bytes
//   numeric (float32, float64, int32 columns): the column value as float64 (exact for all three)
//   int64: the value as float64 (validation admits only safe integers, so exact)
// Numbers are written as doubles into one Float64Array, so the common case (churn: 16
// categoricals, 3 floats) writes 19 doubles and hashes 152 bytes.
import { hash } from 'node:crypto';
import type { FeatureSchema } from '@ortline/scorer';

type Column = Float32Array | Float64Array | Int32Array | BigInt64Array | string[];
type Columns = Record<string, Column>;

/** One feature's writer: appends the canonical bytes of row `r` of its column. */
interface Part {
  readonly name: string;
  readonly kind: 'index' | 'string' | 'number' | 'int64';
  readonly index?: ReadonlyMap<string, number>;
}

const STRING_MARKER = 0xffffffff;

export class RowKeys {
  /** `<prefix>{<model>:<version>}:`, the part every key of this model version shares. */
  readonly prefix: string;
  private readonly parts: readonly Part[];
  private doubles: Float64Array;
  private bytes: Uint8Array;
  private readonly encoder = new TextEncoder();

  /** Doubles at the start of the buffer that hold the model file's digest (0 without one). */
  private readonly lead: number;

  constructor(schema: FeatureSchema, keyPrefix: string, model: string, version: string, modelDigest?: Uint8Array) {
    this.prefix = `${keyPrefix}{${model}:${version}}:`;
    this.parts = schema.features.map((f): Part => {
      if (f.kind === 'categorical') {
        return f.categories
          ? { name: f.name, kind: 'index', index: new Map(f.categories.map((c, i) => [c, i])) }
          : { name: f.name, kind: 'string' };
      }
      return { name: f.name, kind: f.dtype === 'int64' ? 'int64' : 'number' };
    });
    this.lead = modelDigest ? Math.ceil(modelDigest.length / 8) : 0;
    this.doubles = new Float64Array(Math.max(16, this.lead + this.parts.length * 2));
    this.bytes = new Uint8Array(this.doubles.buffer);
    if (modelDigest) this.bytes.set(modelDigest);
  }

  /** The key of row `r` of validated columns. */
  key(cols: Columns, r: number): string {
    const parts = this.parts;
    let d = this.doubles;
    let n = this.lead; // doubles written (the digest's first)
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (p.kind === 'number') {
        const v = (cols[p.name] as Float32Array | Float64Array | Int32Array)[r]!;
        d[n++] = Number.isNaN(v) ? NaN : v; // one NaN bit pattern, whatever the column held
      } else if (p.kind === 'index') {
        d[n++] = p.index!.get((cols[p.name] as string[])[r]!) ?? -1;
      } else if (p.kind === 'int64') {
        // Validation admits only safe integers into int64 columns: exact as a double. (Not the raw
        // bits: many int64 bit patterns are NaNs as doubles, and NaN payloads are not preserved.)
        d[n++] = Number((cols[p.name] as BigInt64Array)[r]!);
      } else {
        const utf8 = this.encoder.encode((cols[p.name] as string[])[r]!);
        const need = n + 2 + Math.ceil(utf8.length / 8) + parts.length;
        if (need > d.length) d = this.grow(need, n);
        d[n++] = STRING_MARKER;
        d[n++] = utf8.length;
        this.bytes.fill(0, n * 8, (n + Math.ceil(utf8.length / 8)) * 8);
        this.bytes.set(utf8, n * 8);
        n += Math.ceil(utf8.length / 8);
      }
    }
    return this.prefix + hash('sha256', this.bytes.subarray(0, n * 8), 'base64url').slice(0, 22);
  }

  private grow(need: number, keep: number): Float64Array {
    const d = new Float64Array(need * 2);
    const bytes = new Uint8Array(d.buffer);
    // As bytes: the digest's bytes need not be canonical doubles.
    bytes.set(this.bytes.subarray(0, keep * 8));
    this.doubles = d;
    this.bytes = bytes;
    return d;
  }
}
