// @ortline/monitor: watching a served model. Drift: rows binned on the model card's reference
// distributions, counted in sliding windows, compared by Population Stability Index. The traffic
// log: sampled rows written as JSON lines off the request path, rotated, compressed, read back.
export { type BinLayout, type BinnedKind, DriftBins, DriftReferenceError, interval, MISSING, UNSEEN } from './bins.js';
export {
  type BinShare,
  type DriftStatus,
  type DriftSummary,
  driftStatus,
  type LayoutDrift,
  PSI_DRIFT,
  PSI_FLOOR,
  PSI_WATCH,
  psi,
  summarize,
} from './psi.js';
export { collectDriftReport, type DriftReportData, type ReportOptions } from './report.js';
export { histogramSvg, renderDriftReportHtml } from './report-html.js';
export { TRAFFIC_FILE, type TrafficLogOptions, TrafficLogWriter } from './traffic-log.js';
export { type ReadIssue, readTrafficLog, type TrafficLine, trafficFiles } from './traffic-read.js';
export { DriftWindow, type WindowOptions, type WindowSnapshot } from './window.js';
