// Reading traffic logs back: every `traffic-*.jsonl` and `traffic-*.jsonl.gz` file of a folder, in
// the order they were opened, one parsed line at a time (constant memory whatever their size).
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { TRAFFIC_FILE } from './traffic-log.js';

/** One logged row, as the gateway writes it (docs/traffic-log.md). */
export interface TrafficLine {
  readonly time: string;
  readonly request_id: string;
  readonly model: string;
  readonly version: string;
  /** active, canary, pinned (the request named the version) or shadow (scored for comparison only). */
  readonly route: string;
  readonly id: unknown;
  readonly features: Record<string, unknown>;
  readonly probability: number | null;
  readonly risk: string | null;
  readonly latency_ms: number;
  readonly cache: string;
}

/** The log files of a folder, oldest first. */
export async function trafficFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => TRAFFIC_FILE.test(n));
  // One file can be there twice for a moment (compressed, original not yet removed): keep the original.
  const plain = new Set(names.filter((n) => n.endsWith('.jsonl')));
  return names
    .filter((n) => !(n.endsWith('.gz') && plain.has(n.slice(0, -3))))
    .sort()
    .map((n) => join(dir, n));
}

export interface ReadIssue {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/**
 * Every line of every log file of `dir`. Lines that are not traffic log lines (JSON objects with a
 * valid `time` and a `features` object; a crash can cut the last line of an uncompressed file) are
 * passed to `onIssue`, with their file and line number, and skipped.
 */
export async function* readTrafficLog(
  dir: string,
  onIssue: (issue: ReadIssue) => void = () => {},
): AsyncGenerator<TrafficLine> {
  for (const file of await trafficFiles(dir)) {
    const raw = createReadStream(file);
    const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
    raw.on('error', (err) => input.destroy(err));
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    let n = 0;
    try {
      for await (const text of lines) {
        n++;
        if (text === '') continue;
        const value = parse(text);
        if (typeof value === 'string') onIssue({ file, line: n, message: value });
        else yield value;
      }
    } catch (err) {
      // A damaged compressed file: what was read of it stands, the rest is reported.
      onIssue({ file, line: n + 1, message: (err as Error).message });
    }
  }
}

/** The line as an object, or why it is not one. */
function parse(text: string): TrafficLine | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const line = value as Partial<TrafficLine>;
  if (typeof line.time !== 'string' || Number.isNaN(Date.parse(line.time)))
    return 'not a traffic log line: no valid "time"';
  if (line.features === null || typeof line.features !== 'object' || Array.isArray(line.features))
    return 'not a traffic log line: no "features" object';
  return line as TrafficLine;
}
