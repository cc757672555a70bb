// How an answer reads: the probability, its risk category against the card's thresholds, the
// version that answered.
import type { ModelInfo, Prediction } from './api.js';

export function riskClass(risk: string | null): string {
  return `risk risk-${(risk ?? 'none').toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
}

export function percent(p: number): string {
  return `${(p * 100).toFixed(1)} %`;
}

/** "Low up to 0.29, Medium up to 0.5, High up to 1" */
export function thresholdsText(info: ModelInfo): string {
  return info.risk_thresholds.map((t) => `${t.category} up to ${t.max}`).join(', ');
}

export function AnswerView({ info, answer }: { info: ModelInfo; answer: Prediction }) {
  return (
    <dl class="answer" data-testid="answer">
      <div>
        <dt>{info.answer.probability_field}</dt>
        <dd class="probability" data-value={answer.probability}>
          {answer.probability.toFixed(4)} <span class="muted">({percent(answer.probability)})</span>
        </dd>
      </div>
      <div>
        <dt>{info.answer.risk_field}</dt>
        <dd>
          <span class={riskClass(answer.risk)}>{answer.risk ?? 'none'}</span>
          {info.risk_thresholds.length > 0 && <small class="muted"> {thresholdsText(info)}</small>}
        </dd>
      </div>
      <div>
        <dt>answered by</dt>
        <dd>
          {info.name} version <span class="version">{answer.version}</span>
        </dd>
      </div>
      <div>
        <dt>prediction id</dt>
        <dd class="muted">{answer.predictionId}</dd>
      </div>
    </dl>
  );
}

/** A failure that is not about one field: its code and message. */
export function ErrorBox({ error }: { error: { code: string; message: string } | null }) {
  if (!error) return null;
  return (
    <p class="error-box" role="alert">
      <strong>{error.code}</strong> {error.message}
    </p>
  );
}
