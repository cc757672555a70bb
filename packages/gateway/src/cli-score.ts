// `ortline score`: a whole file scored by one model version (bulk/), with a progress bar on a
// terminal and one summary line otherwise.
//   ortline score --model models/churn/1 customers.csv -o scored.csv [--rejects FILE]
//                 [--batch-rows N] [--intra-op-threads N]
// Exit codes: 0 every row scored, 3 some rows rejected (in the reject file), 1 the job could not
// run (model, input or output unusable), 2 usage.

import { DEFAULT_BATCH_ROWS, ScoreFileError, type ScoreProgress } from './bulk/types.js';
import { subcommandArgs, usageError } from './cli-args.js';

export const SCORE_USAGE = [
  'ortline score: score every row of a CSV file with one model version',
  '',
  '  ortline score --model DIR INPUT -o OUTPUT [--rejects FILE] [--batch-rows N] [--intra-op-threads N]',
  '',
  "  --model            the version's folder (model.onnx and model.json), e.g. models/churn/1",
  '  INPUT              a CSV file with a header row: the features by name, and an id column',
  "                     (customer_id or customerID, or the model card's answer.id_field); other columns are not sent",
  '  -o, --output       the scored CSV: the id column (or the row number), then the answer fields, in input order',
  '  --rejects          rows that could not be scored: the row as it was, its line, and its errors',
  '                     (reject_errors: a JSON array of {field, code, message}, as the HTTP API names them)',
  '                     (default: beside the output, scored.csv -> scored.rejects.csv)',
  `  --batch-rows       rows per model run (default ${DEFAULT_BATCH_ROWS})`,
  '  --intra-op-threads ONNX Runtime threads per run (default 1)',
  '',
  'Exit codes: 0 every row scored, 3 some rows rejected, 1 the job could not run, 2 usage.',
].join('\n');

const COMMAND = { name: 'ortline score', usage: SCORE_USAGE };

function positiveInt(text: string | undefined, flag: string, fallback: number): number | string {
  if (text === undefined) return fallback;
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 ? n : `${flag} must be a positive integer, got "${text}"`;
}

export async function scoreCommand(argv: readonly string[]): Promise<number> {
  const args = subcommandArgs(
    COMMAND,
    argv,
    {
      model: { type: 'string' },
      output: { type: 'string', short: 'o' },
      rejects: { type: 'string' },
      'batch-rows': { type: 'string' },
      'intra-op-threads': { type: 'string' },
    },
    true,
  );
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  const model = values.model as string | undefined;
  const output = values.output as string | undefined;
  if (!model || !output) return usageError(COMMAND, '--model and --output are required');
  if (positionals.length !== 1) return usageError(COMMAND, 'name exactly one input file');
  const input = positionals[0]!;
  const batchRows = positiveInt(values['batch-rows'] as string | undefined, '--batch-rows', DEFAULT_BATCH_ROWS);
  if (typeof batchRows === 'string') return usageError(COMMAND, batchRows);
  const threads = positiveInt(values['intra-op-threads'] as string | undefined, '--intra-op-threads', 1);
  if (typeof threads === 'string') return usageError(COMMAND, threads);
  if (!/\.csv$/i.test(input) || !/\.csv$/i.test(output))
    return usageError(COMMAND, 'the input and the output must be .csv files');

  // Loaded on use: the other commands and --help need no native module.
  const { loadBulkModel } = await import('./bulk/model.js');
  const { scoreFile } = await import('./bulk/score-file.js');
  const bar = process.stderr.isTTY ? new ProgressBar() : undefined;
  let loaded: Awaited<ReturnType<typeof loadBulkModel>> | undefined;
  try {
    loaded = await loadBulkModel(model, { batchRows, intraOpThreads: threads });
    const summary = await scoreFile(loaded, {
      input,
      output,
      ...(values.rejects ? { rejects: values.rejects as string } : {}),
      batchRows,
      ...(bar ? { onProgress: (p: ScoreProgress) => bar.show(p) } : {}),
    });
    bar?.clear();
    const rate = summary.seconds > 0 ? Math.round(summary.rows / summary.seconds) : summary.rows;
    process.stderr.write(
      `ortline score: ${summary.rows} rows, ${summary.scored} scored, ${summary.rejected} rejected` +
        ` in ${summary.seconds.toFixed(2)} s (${rate} rows/s): ${summary.output}` +
        (summary.rejected > 0 ? `; rejects: ${summary.rejects}` : '') +
        (summary.idColumn ? '' : '; no id column (rows numbered)') +
        (summary.ignored.length > 0 ? `; not sent: ${summary.ignored.join(', ')}` : '') +
        '\n',
    );
    return summary.rejected > 0 ? 3 : 0;
  } catch (err) {
    bar?.clear();
    const code = err instanceof ScoreFileError ? ` ${err.code}` : '';
    process.stderr.write(`ortline score:${code} ${(err as Error).message}\n`);
    return 1;
  } finally {
    await loaded?.close();
  }
}

/** One line on stderr, redrawn at most every 100 ms: rows, rows/s, share of the file, ETA. */
class ProgressBar {
  private last = 0;
  show(p: ScoreProgress): void {
    const now = performance.now();
    if (now - this.last < 100) return;
    this.last = now;
    const share = p.bytesTotal > 0 ? Math.min(1, p.bytesRead / p.bytesTotal) : 0;
    const rate = p.seconds > 0 ? p.rows / p.seconds : 0;
    const eta = share > 0 ? (p.seconds * (1 - share)) / share : 0;
    const width = 24;
    const filled = Math.round(share * width);
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ` +
        `${p.rows} rows, ${Math.round(rate)} rows/s, ETA ${Math.ceil(eta)} s\x1b[K`,
    );
  }
  clear(): void {
    process.stderr.write('\r\x1b[K');
  }
}
