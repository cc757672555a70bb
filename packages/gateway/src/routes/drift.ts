// GET /v1/models/{name}/drift[?version=v]: the drift window of a version (the active one unless
// named): PSI per feature and of the predicted probability against the model card's reference,
// with the reference and current share of every bin. Computed when asked, off the request path.
import type { DriftWindow } from '@ortline/monitor';
import type { GatewayConfig } from '../config/options.js';
import { GatewayError } from '../errors.js';
import { Exchange } from '../http/exchange.js';
import type { ModelVersion } from '../registry/model-version.js';
import { type Router, resolveModel, type ServerParts } from './parts.js';

export function mountDrift(router: Router, parts: ServerParts): void {
  const route = parts.metrics.route('v1_drift');
  router.get('/v1/models/:name/drift', (res, req) => {
    const ex = new Exchange(res, req, parts.ctx, route, false);
    const mv = resolveModel(parts, ex, req.getParameter(0), req.getQuery('version') ?? '');
    if (!mv) return;
    if (mv.drift === null) {
      ex.fail(notWatched(mv, parts.config));
      return;
    }
    ex.sendValue(200, driftReport(mv, mv.drift, parts.config.drift));
  });
}

function notWatched(mv: ModelVersion, config: GatewayConfig): GatewayError {
  const off = !config.drift.enabled;
  return new GatewayError(
    'DRIFT_NOT_WATCHED',
    off
      ? 'drift is not watched: drift.enabled is off'
      : `model "${mv.name}" version ${mv.version} has no reference distributions in its model card (model.json "reference")`,
    { model: mv.name, version: mv.version, reason: off ? 'disabled' : 'no_reference' },
  );
}

/** The endpoint's body: snake_case like the rest of v1. */
export function driftReport(
  mv: ModelVersion,
  drift: DriftWindow,
  { windowRows, windowSeconds }: GatewayConfig['drift'],
): Record<string, unknown> {
  const s = drift.snapshot();
  return {
    model: mv.name,
    version: mv.version,
    window: {
      rows: s.rows,
      since: s.since === null ? null : new Date(s.since).toISOString(),
      ...(windowSeconds > 0 ? { seconds: windowSeconds } : { max_rows: windowRows }),
      min_rows: drift.minRows,
    },
    features: s.features,
    prediction: s.prediction,
  };
}
