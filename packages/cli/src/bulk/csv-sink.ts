// A CSV file as a table sink: a header line, then one line per row. A write stream reports
// failure (a folder that is not there, a full disk) as an event; kept here, it fails the job at
// the next append or at the close, never the process.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { csvField, csvLine } from './csv-writer.js';
import type { TableSink } from './table.js';
import { unwritable } from './types.js';

/**
 * A value as a CSV field: null is an empty cell, a number or a boolean its text (never quoted),
 * a Date its ISO form, other objects their JSON.
 */
function field(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return csvField(v);
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  return csvField(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? String(x) : x)));
}

export function openCsvSink(path: string, names: readonly string[]): TableSink {
  const out = createWriteStream(path);
  let failed: Error | undefined;
  out.on('error', (err) => {
    failed ??= err;
  });
  out.write(csvLine(names));
  return {
    async append(columns) {
      if (failed) throw unwritable(failed);
      const rows = columns[0]?.length ?? 0;
      let s = '';
      const last = columns.length - 1;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < last; c++) s += `${field(columns[c]![r])},`;
        s += `${field(columns[last]![r])}\n`;
      }
      if (s !== '' && !out.write(s))
        await once(out, 'drain').catch((err: Error) => {
          throw unwritable(err);
        });
    },
    close() {
      return new Promise((resolve, reject) => {
        if (failed || out.errored) return reject(unwritable(failed ?? (out.errored as Error)));
        out.once('error', (err) => reject(unwritable(err)));
        out.end(() => resolve());
      });
    },
    destroy() {
      out.destroy();
    },
  };
}
