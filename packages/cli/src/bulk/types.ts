// What scoring a file takes and gives, apart from the work itself (score-file.ts): the CLI reads
// these without loading the native scorer.

/** Why a file could not be scored: a stable code, and a message that leaves naming the file to the caller. */
export class ScoreFileError extends Error {
  override readonly name = 'ScoreFileError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface ScoreFileOptions {
  readonly input: string;
  readonly output: string;
  /** Where rejected rows go; by default beside the output (`scored.csv` -> `scored.rejects.csv`). */
  readonly rejects?: string;
  /** Rows per batch (also the model run's size). */
  readonly batchRows?: number;
  /** Reads a CSV input as text throughout (CsvReader), as a quoted file is read; to compare the two paths. */
  readonly csvAsText?: boolean;
  /** Called after each batch is written. */
  readonly onProgress?: (p: ScoreProgress) => void;
}

export interface ScoreProgress {
  readonly rows: number;
  readonly scored: number;
  readonly rejected: number;
  readonly bytesRead: number;
  readonly bytesTotal: number;
  readonly seconds: number;
}

export interface ScoreSummary extends ScoreProgress {
  readonly output: string;
  readonly rejects: string;
  /** The input's column that gave each row its id, or null (rows are then numbered). */
  readonly idColumn: string | null;
  /** Input columns neither a feature nor the id: not sent. */
  readonly ignored: readonly string[];
}

export const DEFAULT_BATCH_ROWS = 4096;

export function unwritable(err: Error): ScoreFileError {
  return new ScoreFileError('UNWRITABLE_OUTPUT', `cannot write the output: ${err.message}`);
}
