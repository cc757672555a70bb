// Text cells read straight from a file's bytes (UTF-8), without a string per cell: trimming,
// numbers in the plain decimal form, and categories matched byte for byte. Each helper either
// gives exactly what the string path (trim, Number, a category lookup) would, or says it cannot
// (NaN, undefined), and the caller then decodes that one cell and takes the string path: the
// outcome never depends on which path ran.

/** ASCII white space as String.prototype.trim sees it: tab, LF, VT, FF, CR, space. */
function isSpace(b: number): boolean {
  return b === 32 || (b >= 9 && b <= 13);
}

/**
 * The cell [from, to) without surrounding ASCII white space, as [start, end] in `out`; false when
 * an end of what is left is not ASCII (it may be Unicode white space, which only trim knows).
 */
export function trimBytes(bytes: Uint8Array, from: number, to: number, out: Int32Array): boolean {
  let a = from;
  let b = to;
  while (a < b && isSpace(bytes[a]!)) a++;
  while (b > a && isSpace(bytes[b - 1]!)) b--;
  out[0] = a;
  out[1] = b;
  return a === b || (bytes[a]! < 0x80 && bytes[b - 1]! < 0x80);
}

const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * `-?D+(.D+)?` with at most 15 digits, as Number() reads it; NaN for any other text. Exact: the
 * digits form an integer below 2^53 and 10^k (k <= 15) is a double, so one correctly rounded
 * division gives the double nearest the decimal, as Number() does.
 */
export function plainDecimal(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  const negative = i < to && bytes[i] === 45; /* - */
  if (negative) i++;
  let m = 0;
  let digits = 0;
  let fraction = -1; // digits after the point; -1 while there is no point
  for (; i < to; i++) {
    const c = bytes[i]!;
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      if (fraction >= 0) fraction++;
    } else if (c === 46 /* . */ && fraction < 0 && digits > 0) fraction = 0;
    else return Number.NaN;
  }
  if (digits === 0 || digits > 15 || fraction === 0) return Number.NaN;
  const v = fraction > 0 ? m / POW10[fraction]! : m;
  return negative ? -v : v;
}

/** FNV-1a over [from, to). */
function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * A feature's categories by their UTF-8 bytes: a cell's bytes give the category's own string.
 * A few categories (the usual case) are compared in turn, by length first; many are hashed.
 */
export class CategoryBytes {
  private readonly list: { bytes: Uint8Array; value: string }[] = [];
  private readonly byHash: Map<number, { bytes: Uint8Array; value: string }[]> | undefined;

  constructor(categories: readonly string[]) {
    const encoder = new TextEncoder();
    for (const value of categories) this.list.push({ bytes: encoder.encode(value), value });
    if (this.list.length > 8) {
      this.byHash = new Map();
      for (const c of this.list) {
        const h = hashBytes(c.bytes, 0, c.bytes.length);
        const same = this.byHash.get(h);
        if (same) same.push(c);
        else this.byHash.set(h, [c]);
      }
    }
  }

  /** The category whose bytes are [from, to), or undefined. */
  find(bytes: Uint8Array, from: number, to: number): string | undefined {
    const list = this.byHash ? this.byHash.get(hashBytes(bytes, from, to)) : this.list;
    if (!list) return undefined;
    const n = to - from;
    outer: for (const c of list) {
      if (c.bytes.length !== n) continue;
      for (let i = 0; i < n; i++) if (c.bytes[i] !== bytes[from + i]) continue outer;
      return c.value;
    }
    return undefined;
  }
}

// ignoreBOM: a U+FEFF inside the file is a character of its cell, as a decoding stream keeps it.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** The cell [from, to) as text (invalid UTF-8 becomes U+FFFD, as a decoding stream's does). */
export function decodeCell(bytes: Uint8Array, from: number, to: number): string {
  return utf8.decode(bytes.subarray(from, to));
}
