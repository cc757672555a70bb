// `ortline drift-report`: the drift of one model version over its traffic logs, as an HTML page.
//   ortline drift-report --log DIR --model-dir models/churn/1 --out report.html
//                        [--json FILE] [--since TIME] [--until TIME] [--min-rows N]
// The PSI is the gateway's own (@ortline/monitor): the same bins, the same floor, the same reading.
// Exit codes: 0 written, 1 the inputs cannot be used (no card or reference, no log folder), 2 usage.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDriftReport, renderDriftReportHtml } from '@ortline/monitor';
import { subcommandArgs, usageError } from './cli-args.js';

export const DRIFT_REPORT_USAGE = [
  'ortline drift-report: drift of a model version over traffic logs, as one HTML page',
  '',
  '  ortline drift-report --log DIR --model-dir DIR --out FILE [--json FILE]',
  '                       [--since TIME] [--until TIME] [--min-rows N]',
  '',
  '  --log        the traffic log folder (trafficLog.dir): traffic-*.jsonl and .jsonl.gz',
  "  --model-dir  the version's folder (its model.json names the model and version and holds the reference)",
  '  --out        the HTML page to write',
  '  --json       also write the numbers as JSON',
  '  --since, --until   only rows logged in [since, until) (ISO 8601 times)',
  '  --min-rows   fewer rows than this: no PSI (default 500, as the gateway)',
].join('\n');

const COMMAND = { name: 'ortline drift-report', usage: DRIFT_REPORT_USAGE };

function time(value: string | undefined, flag: string): Date | undefined | string {
  if (value === undefined) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? `${flag} must be an ISO 8601 time, got "${value}"` : d;
}

export async function driftReportCommand(argv: readonly string[]): Promise<number> {
  const args = subcommandArgs(COMMAND, argv, {
    log: { type: 'string' },
    'model-dir': { type: 'string' },
    out: { type: 'string' },
    json: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    'min-rows': { type: 'string' },
  });
  if (typeof args === 'number') return args;
  const { values } = args;
  const log = values.log as string | undefined;
  const modelDir = values['model-dir'] as string | undefined;
  const out = values.out as string | undefined;
  if (!log || !modelDir || !out) return usageError(COMMAND, '--log, --model-dir and --out are required');
  const since = time(values.since as string | undefined, '--since');
  const until = time(values.until as string | undefined, '--until');
  if (typeof since === 'string') return usageError(COMMAND, since);
  if (typeof until === 'string') return usageError(COMMAND, until);
  const minRowsText = values['min-rows'] as string | undefined;
  const minRows = minRowsText === undefined ? 500 : Number(minRowsText);
  if (!Number.isInteger(minRows) || minRows < 1)
    return usageError(COMMAND, `--min-rows must be a positive integer, got "${minRowsText}"`);

  try {
    const card = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as Record<string, unknown>;
    const report = await collectDriftReport({
      card,
      logDir: log,
      minRows,
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
    });
    writeFileSync(out, renderDriftReportHtml(report));
    if (values.json) writeFileSync(values.json as string, `${JSON.stringify(report, null, 2)}\n`);
    const drifting = report.features.filter((f) => f.status === 'drift');
    const named = drifting.map((f) => `${f.name} ${f.psi!.toFixed(2)}`).join(', ');
    process.stdout.write(
      `drift report: ${report.model} version ${report.version}, ${report.rows} rows; ` +
        `${drifting.length} feature(s) drifting${named ? ` (${named})` : ''}; ` +
        `prediction PSI ${report.prediction.psi === null ? 'n/a' : report.prediction.psi.toFixed(3)}: ${out}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`ortline drift-report: ${(err as Error).message}\n`);
    return 1;
  }
}
