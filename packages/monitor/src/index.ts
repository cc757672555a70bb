// @ortline/monitor: watching a served model. Drift: rows binned on the model card's reference
// distributions, counted in sliding windows, compared by Population Stability Index.
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
export { DriftWindow, type WindowOptions, type WindowSnapshot } from './window.js';
