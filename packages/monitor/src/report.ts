// The drift report over traffic logs: the logged rows of one model version counted in the same
// bins and compared by the same PSI as the gateway's live windows (bins.ts, psi.ts), for a time
// range instead of a sliding window. Rendering is in report-html.ts.
import { DriftBins, DriftReferenceError } from './bins.js';
import { type DriftSummary, summarize } from './psi.js';
import { type ReadIssue, readTrafficLog, trafficFiles } from './traffic-read.js';

export interface ReportOptions {
  /** The version's model card (model.json): its name, version and reference. */
  readonly card: Record<string, unknown>;
  readonly logDir: string;
  /** Rows logged at or after this time only. */
  readonly since?: Date;
  /** Rows logged before this time only. */
  readonly until?: Date;
  /** Fewer rows than this: no PSI (as in the gateway). */
  readonly minRows?: number;
}

export interface DriftReportData extends DriftSummary {
  readonly model: string;
  readonly version: string;
  readonly logDir: string;
  readonly files: number;
  /** The first and last time of the rows counted (null with none). */
  readonly from: string | null;
  readonly to: string | null;
  readonly minRows: number;
  /** Lines not counted, by why. */
  readonly skipped: { readonly otherVersions: number; readonly outsideRange: number; readonly unreadable: number };
  /** The first unreadable lines, for the reader of the report. */
  readonly issues: readonly ReadIssue[];
}

const MAX_ISSUES = 20;

export async function collectDriftReport(options: ReportOptions): Promise<DriftReportData> {
  const { card, logDir } = options;
  const model = String(card.name ?? '');
  const version = String(card.version ?? '');
  if (model === '' || version === '') throw new DriftReferenceError('the model card has no "name" and "version"');
  const bins = DriftBins.fromCard(card);
  if (bins === null) throw new DriftReferenceError(`model ${model} version ${version} has no "reference" in its card`);
  const minRows = options.minRows ?? 500;
  const since = options.since?.getTime() ?? Number.NEGATIVE_INFINITY;
  const until = options.until?.getTime() ?? Number.POSITIVE_INFINITY;
  const counts = new Float64Array(bins.size);
  const issues: ReadIssue[] = [];
  let unreadable = 0;
  let otherVersions = 0;
  let outsideRange = 0;
  let rows = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const onIssue = (issue: ReadIssue) => {
    unreadable++;
    if (issues.length < MAX_ISSUES) issues.push(issue);
  };
  for await (const line of readTrafficLog(logDir, onIssue)) {
    if (line.model !== model || String(line.version) !== version) {
      otherVersions++;
      continue;
    }
    const t = Date.parse(line.time);
    if (t < since || t >= until) {
      outsideRange++;
      continue;
    }
    const p = typeof line.probability === 'number' ? line.probability : Number.NaN;
    bins.count(line.features, p, counts);
    rows++;
    if (t < first) first = t;
    if (t > last) last = t;
  }
  return {
    ...summarize(bins, counts, rows, minRows),
    model,
    version,
    logDir,
    files: (await trafficFiles(logDir)).length,
    from: rows > 0 ? new Date(first).toISOString() : null,
    to: rows > 0 ? new Date(last).toISOString() : null,
    minRows,
    skipped: { otherVersions, outsideRange, unreadable },
    issues,
  };
}
