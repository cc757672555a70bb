// `ortline score`: whole files scored by one model version (bulk/), with a progress bar on a
// terminal and one summary line per file otherwise.
//   ortline score --model models/churn/1 customers.csv -o scored.parquet [--rejects FILE]
//   ortline score --model models/churn/1 in/ -o out/ [--shard I/N] [--accept-rejects]
//                 [--batch-rows N] [--intra-op-threads N]
// Exit codes: 0 every row scored, 3 some rows rejected (in the reject files), 1 a file or the
// model could not be used (the other files are still scored), 2 usage.
import { mkdirSync } from 'node:fs';
import { type FileJob, isFolder, parseShard, planJobs } from './bulk/jobs.js';
import { DEFAULT_BATCH_ROWS, ScoreFileError, type ScoreProgress, type ScoreSummary } from './bulk/types.js';
import { subcommandArgs, usageError } from './cli-args.js';

export const SCORE_USAGE = [
  'ortline score: score every row of CSV and Parquet files with one model version',
  '',
  '  ortline score --model DIR INPUT -o OUTPUT [--rejects FILE] [--batch-rows N] [--intra-op-threads N]',
  '  ortline score --model DIR INPUT... -o FOLDER/ [--shard I/N] [--accept-rejects] [--batch-rows N] [--intra-op-threads N]',
  '',
  "  --model            the version's folder (model.onnx and model.json), e.g. models/churn/1",
  '  INPUT              a CSV file with a header row, or a Parquet file (.parquet, .pq): the features by name, and an id column',
  "                     (customer_id or customerID, or the model card's answer.id_field); other columns are not sent;",
  '                     or a folder: its .csv and .parquet files',
  '  -o, --output       the scored file, CSV or Parquet by its extension: the id column (or the row number), then the',
  '                     answer fields, in input order;',
  '                     a folder (ending in /, or existing) for several files: each written under its own name',
  '  --rejects          rows that could not be scored (CSV or Parquet by its extension): the row as it was, its',
  '                     line (reject_line; Parquet input: reject_row) and its errors',
  '                     (reject_errors: a JSON array of {field, code, message}, as the HTTP API names them)',
  '                     (default: beside the output, scored.csv -> scored.rejects.csv)',
  '  --shard I/N        only every N-th file, from the I-th (0-based) of the sorted list: N processes split the files',
  '  --accept-rejects   exit 0 when rows were rejected (they are in the reject files), e.g. in a batch job',
  `  --batch-rows       rows per model run (default ${DEFAULT_BATCH_ROWS})`,
  '  --intra-op-threads ONNX Runtime threads per run (default 1)',
  '',
  'Exit codes: 0 every row scored, 3 some rows rejected, 1 a file or the model could not be used, 2 usage.',
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
      shard: { type: 'string' },
      'accept-rejects': { type: 'boolean' },
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
  if (positionals.length === 0) return usageError(COMMAND, 'name the input file(s) or folder(s)');
  const batchRows = positiveInt(values['batch-rows'] as string | undefined, '--batch-rows', DEFAULT_BATCH_ROWS);
  if (typeof batchRows === 'string') return usageError(COMMAND, batchRows);
  const threads = positiveInt(values['intra-op-threads'] as string | undefined, '--intra-op-threads', 1);
  if (typeof threads === 'string') return usageError(COMMAND, threads);
  const shard = values.shard === undefined ? undefined : parseShard(values.shard as string);
  if (typeof shard === 'string') return usageError(COMMAND, shard);

  let jobs: FileJob[];
  try {
    jobs = planJobs(positionals, output, {
      ...(values.rejects ? { rejects: values.rejects as string } : {}),
      ...(shard ? { shard } : {}),
    });
  } catch (err) {
    const usage = err instanceof ScoreFileError && (err.code === 'UNSUPPORTED_FORMAT' || err.code === 'INVALID_OPTION');
    return usage ? usageError(COMMAND, (err as Error).message) : failed(err);
  }
  if (jobs.length === 0) {
    process.stderr.write(
      `ortline score: no .csv or .parquet file to score${shard ? ` in shard ${shard.index}/${shard.count}` : ''}\n`,
    );
    return 0;
  }
  if (jobs.length > 1 || isFolder(output)) mkdirSync(output, { recursive: true });

  // Loaded on use: the other commands and --help need no native module.
  const { loadBulkModel } = await import('./bulk/model.js');
  const { scoreFile } = await import('./bulk/score-file.js');
  const bar = process.stderr.isTTY ? new ProgressBar() : undefined;
  let loaded: Awaited<ReturnType<typeof loadBulkModel>> | undefined;
  let anyFailed = false;
  const total = { files: 0, rows: 0, scored: 0, rejected: 0 };
  const started = performance.now();
  try {
    loaded = await loadBulkModel(model, { batchRows, intraOpThreads: threads });
    for (const job of jobs) {
      try {
        const summary = await scoreFile(loaded, {
          ...job,
          batchRows,
          ...(bar ? { onProgress: (p: ScoreProgress) => bar.show(p) } : {}),
        });
        bar?.clear();
        process.stderr.write(summaryLine(job.input, summary));
        total.files++;
        total.rows += summary.rows;
        total.scored += summary.scored;
        total.rejected += summary.rejected;
      } catch (err) {
        bar?.clear();
        // One unusable file does not stop the others; the exit code says that one failed.
        failed(err, job.input);
        anyFailed = true;
      }
    }
  } catch (err) {
    bar?.clear();
    return failed(err);
  } finally {
    await loaded?.close();
  }
  if (jobs.length > 1) {
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(
      `ortline score: ${total.files} of ${jobs.length} files, ${total.rows} rows, ${total.scored} scored, ` +
        `${total.rejected} rejected in ${seconds.toFixed(2)} s (${Math.round(total.rows / Math.max(seconds, 1e-9))} rows/s): ${output}\n`,
    );
  }
  if (anyFailed) return 1;
  // Rejected rows are in their files; a batch job may count that as done rather than failed.
  return total.rejected > 0 && !values['accept-rejects'] ? 3 : 0;
}

function summaryLine(input: string, s: ScoreSummary): string {
  const rate = s.seconds > 0 ? Math.round(s.rows / s.seconds) : s.rows;
  return (
    `ortline score: ${input}: ${s.rows} rows, ${s.scored} scored, ${s.rejected} rejected` +
    ` in ${s.seconds.toFixed(2)} s (${rate} rows/s): ${s.output}` +
    (s.rejected > 0 ? `; rejects: ${s.rejects}` : '') +
    (s.idColumn ? '' : '; no id column (rows numbered)') +
    (s.ignored.length > 0 ? `; not sent: ${s.ignored.join(', ')}` : '') +
    '\n'
  );
}

/** Exit code 1 after saying why (with the error's code when it has one). */
function failed(err: unknown, input?: string): number {
  const code = err instanceof ScoreFileError ? ` ${err.code}` : '';
  process.stderr.write(`ortline score:${code} ${input ? `${input}: ` : ''}${(err as Error).message}\n`);
  return 1;
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
