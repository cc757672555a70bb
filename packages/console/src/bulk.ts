// Scoring a file: its rows as records (columns matched to the schema by name), sent in requests
// no larger than the gateway's limits, every row accounted for. A request refused for some rows'
// fields is sent again without those rows, which are reported with the gateway's messages; a
// refusal for load is retried after Retry-After; anything else fails the request's rows with its
// error. No row is dropped without a reason.
import { ApiError, type ModelInfo, type Prediction, predict } from './api.js';
import type { CsvTable } from './csv.js';
import { typedValue } from './form.js';

export interface FileRows {
  readonly records: readonly Record<string, unknown>[];
  /** The column that holds the id, if the file has one of the version's id fields. */
  readonly idColumn: string | null;
  /** Features the file has no column for (each row then lacks them). */
  readonly missing: readonly string[];
  /** Columns that are neither a feature nor the id (e.g. the label): not sent. */
  readonly ignored: readonly string[];
}

export interface RowIssue {
  readonly field: string;
  readonly message: string;
}

export interface RowResult {
  readonly answer?: Prediction;
  readonly issues?: readonly RowIssue[];
  /** A failure not about one field (e.g. the gateway kept refusing for load). */
  readonly error?: string;
}

export function fileRows(info: ModelInfo, table: CsvTable): FileRows {
  const features = new Map(info.features.map((f) => [f.name, f]));
  const idColumn = info.id_fields.find((f) => table.header.includes(f)) ?? null;
  const columns = table.header.map((name) => ({ name, feature: features.get(name) }));
  const records = table.rows.map((row) => {
    const record: Record<string, unknown> = {};
    columns.forEach((c, i) => {
      const text = row[i]!.trim();
      if (c.name === idColumn) record[c.name] = text;
      // An empty cell is a missing value: the gateway fills it if the feature allows, else says so.
      else if (c.feature && text !== '') record[c.name] = typedValue(c.feature, text);
    });
    return record;
  });
  return {
    records,
    idColumn,
    missing: info.features.map((f) => f.name).filter((n) => !table.header.includes(n)),
    ignored: table.header.filter((h) => h !== idColumn && !features.has(h)),
  };
}

/** Consecutive index ranges, each within the instance limit and (JSON-encoded) the body limit. */
export function chunks(info: ModelInfo, records: readonly unknown[]): [number, number][] {
  const maxBytes = Math.floor(info.limits.max_body_bytes * 0.9);
  const out: [number, number][] = [];
  let start = 0;
  let bytes = 20;
  for (let i = 0; i < records.length; i++) {
    const size = JSON.stringify(records[i]).length + 1;
    if (i > start && (i - start >= info.limits.max_instances || bytes + size > maxBytes)) {
      out.push([start, i]);
      start = i;
      bytes = 20;
    }
    bytes += size;
  }
  if (start < records.length) out.push([start, records.length]);
  return out;
}

const MAX_RETRIES = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function scoreRows(
  info: ModelInfo,
  pinned: string,
  records: readonly Record<string, unknown>[],
  onProgress: (done: number) => void,
): Promise<RowResult[]> {
  const results: RowResult[] = new Array(records.length);
  let done = 0;
  for (const [from, to] of chunks(info, records)) {
    let pending = Array.from({ length: to - from }, (_, k) => from + k);
    let retries = 0;
    while (pending.length > 0) {
      try {
        const answers = await predict(
          info,
          pinned,
          pending.map((i) => records[i]),
        );
        pending.forEach((i, k) => {
          results[i] = { answer: answers[k]! };
        });
        pending = [];
      } catch (err) {
        const api = err instanceof ApiError ? err : new ApiError(0, 'ERROR', String(err));
        const issues = api.issues();
        if (issues.length > 0) {
          const bad = new Map<number, RowIssue[]>();
          for (const issue of issues) {
            const i = pending[issue.row];
            if (i === undefined) continue;
            const list = bad.get(i) ?? [];
            list.push({ field: issue.field, message: issue.message.replace(/^row \d+: /, '') });
            bad.set(i, list);
          }
          for (const [i, list] of bad) results[i] = { issues: list };
          pending = pending.filter((i) => !bad.has(i));
          if (bad.size > 0) continue;
        }
        if ((api.status === 429 || api.status === 503) && retries < MAX_RETRIES) {
          retries++;
          await sleep(1000 * retries);
          continue;
        }
        for (const i of pending) results[i] = { error: `${api.code}: ${api.message}` };
        pending = [];
      }
    }
    done += to - from;
    onProgress(done);
  }
  return results;
}
