// What scoring a file reads and writes, whatever the format: rows come from a source in blocks
// (CSV text cells, or a Parquet row group's typed columns) and go to table sinks (the answers,
// the rejects) as columns. The format of each file is its extension's: .parquet (or .pq) is
// Parquet, anything else CSV.
import type { Columns, FeatureIssue } from '@ortline/scorer';

export type Format = 'csv' | 'parquet';

const PARQUET = /\.(parquet|pq)$/i;

export function formatOf(path: string): Format {
  return PARQUET.test(path) ? 'parquet' : 'csv';
}

/** Why a row was not scored: a field of it (or `(row)`), a stable code, the HTTP API's message. */
export interface RowIssue {
  readonly field: string;
  readonly code: string;
  readonly message: string;
}

/** Up to one batch of consecutive rows of the input. */
export interface RowBlock {
  readonly size: number;
  /** Per row, why it cannot be read at all (a CSV row with another field count than the header's). */
  unreadable(k: number): RowIssue | undefined;
  /**
   * Writes rows `rows` (indexes into the block) into `cols` from row 0 through the model's
   * schema, feature j from column `cellOf[j]` (-1: none); issue rows index `rows`.
   */
  write(cellOf: Int32Array, rows: readonly number[], cols: Columns, issues: FeatureIssue[]): void;
  /** Row k's id from column `at`: trimmed text from CSV, the typed value (or null) from Parquet. */
  id(k: number, at: number): unknown;
  /** Row k's value in column `at` as it was (text from CSV, '' past a short row's end), for rejects. */
  value(k: number, at: number): unknown;
  /** Row k's place in the file, from 1: its line (CSV, the header is line 1) or its row (Parquet). */
  position(k: number): number;
}

/** A column's type in a Parquet sink: text, a double, a 64-bit integer, or as an input column was. */
export type ColumnType = 'string' | 'double' | 'int64' | { readonly like: ParquetColumn };

/** A flat Parquet column's schema element, as read (only the fields that say its type). */
export interface ParquetColumn {
  readonly type?: string;
  readonly type_length?: number;
  readonly converted_type?: string;
  readonly logical_type?: unknown;
  readonly scale?: number;
  readonly precision?: number;
}

export interface RowSource {
  /** The columns' names, in the file's order. */
  readonly header: readonly string[];
  /** The name of the reject file's position column: `reject_line` (CSV) or `reject_row` (Parquet). */
  readonly positionName: string;
  readonly bytesTotal: number;
  /** How far the reading got, in bytes of the file (estimated for Parquet, by rows). */
  bytesRead(): number;
  /** Column `at`'s type, for writing its values as they came (Parquet); CSV cells are text. */
  typeOf(at: number): ColumnType;
  /** Checks, before any row is read, that column `at` can feed a feature of this kind. */
  checkFeature(at: number, feature: string, kind: 'numeric' | 'categorical'): void;
  /** The next block of at most `max` rows; null at the end. */
  next(max: number): Promise<RowBlock | null>;
  close(): void;
}

export interface TableSink {
  /** Appends rows given as columns of equal length, in the order the sink was opened with. */
  append(columns: readonly (readonly unknown[])[]): Promise<void>;
  /** Writes what is buffered and closes the file. */
  close(): Promise<void>;
  /** Stops without finishing; the caller removes the file. */
  destroy(): void;
}
