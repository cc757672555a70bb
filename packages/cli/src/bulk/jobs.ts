// Which files one `ortline score` run scores, and where each one's answers and rejects go: one
// file to one file, or files and folders of files into an output folder; with `--shard I/N`, only
// every N-th file from the I-th (as a Kubernetes indexed Job's pods split a folder among them).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ScoreFileError } from './types.js';

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export interface FileJob {
  readonly input: string;
  readonly output: string;
  /** Undefined: the default beside the output. */
  readonly rejects?: string;
}

/** The files `ortline score` reads and writes: CSV and Parquet, by extension. */
const TABLE = /\.(csv|parquet|pq)$/i;

/** `I/N` with 0 <= I < N, or a message saying what is wrong. */
export function parseShard(text: string): Shard | string {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || !(count >= 1) || !(index < count)) return `--shard must be I/N with 0 <= I < N (e.g. 0/4), got "${text}"`;
  return { index, count };
}

/** True when the output names a folder: it ends with a slash or is one already. */
export function isFolder(path: string): boolean {
  return path.endsWith('/') || (existsSync(path) && statSync(path).isDirectory());
}

/**
 * The files to score, in a stable order (sorted by path, so that every shard sees the same list),
 * each with its output. A folder input gives its .csv and .parquet files (not its subfolders'). Throws a
 * ScoreFileError for an input that is neither, or two inputs whose outputs would collide.
 */
export function planJobs(
  inputs: readonly string[],
  output: string,
  options: { readonly rejects?: string; readonly shard?: Shard } = {},
): FileJob[] {
  const files: string[] = [];
  let folderInput = false;
  for (const input of inputs) {
    if (!existsSync(input))
      throw new ScoreFileError('UNREADABLE_INPUT', `cannot read ${input}: no such file or folder`);
    if (statSync(input).isDirectory()) {
      folderInput = true;
      for (const name of readdirSync(input).sort()) {
        const path = join(input, name);
        if (TABLE.test(name) && statSync(path).isFile()) files.push(path);
      }
    } else if (TABLE.test(input)) files.push(input);
    else throw new ScoreFileError('UNSUPPORTED_FORMAT', `${input}: only .csv and .parquet (.pq) files can be scored`);
  }
  const toFolder = folderInput || inputs.length > 1 || isFolder(output);
  if (!toFolder) {
    if (!TABLE.test(output))
      throw new ScoreFileError('UNSUPPORTED_FORMAT', `${output}: the output must be a .csv or .parquet (.pq) file`);
    const job: FileJob = { input: files[0]!, output, ...(options.rejects ? { rejects: options.rejects } : {}) };
    return inShard([job], options.shard);
  }
  if (options.rejects)
    throw new ScoreFileError('INVALID_OPTION', '--rejects names one file; with an output folder each file has its own');
  files.sort();
  const seen = new Map<string, string>();
  const jobs = files.map((input) => {
    const name = basename(input);
    const other = seen.get(name);
    if (other !== undefined)
      throw new ScoreFileError('SAME_FILE', `${other} and ${input} would both be written to ${join(output, name)}`);
    seen.set(name, input);
    return { input, output: join(output, name) };
  });
  return inShard(jobs, options.shard);
}

function inShard(jobs: FileJob[], shard: Shard | undefined): FileJob[] {
  return shard ? jobs.filter((_, i) => i % shard.count === shard.index) : jobs;
}
