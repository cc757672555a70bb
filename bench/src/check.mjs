// Correctness before timing: every system answers every parity row over HTTP, one record per
// request. A model-serving system must give sklearn's probability within the model's tolerance,
// the same risk category as the others, the same answer shape as the gateway's v1 predict and
// echo the customer id; the ceiling (a constant answer) must answer 200 with that shape.
import { recordBody } from './common.mjs';

const SHAPE = ['churn_probability', 'customer_id', 'model_version', 'prediction_id', 'risk_category'];

async function post(url, body) {
  const r = await fetch(`${url}/v1/models/churn/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

/** Sends the rows (8 at a time); returns per-row answers and the worst |diff| vs sklearn. */
export async function checkHttp(system, url, parity, rows = parity.rows) {
  const answers = new Array(rows.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < rows.length) {
        const i = next++;
        answers[i] = await post(url, recordBody(rows[i]));
      }
    }),
  );
  const problems = [];
  let worst = 0;
  for (const [i, a] of answers.entries()) {
    const row = rows[i];
    if (a.status !== 200 || !a.json) {
      problems.push(`row ${i}: status ${a.status} ${a.text.slice(0, 200)}`);
      continue;
    }
    const keys = Object.keys(a.json).sort();
    if (keys.join() !== SHAPE.join())
      problems.push(`row ${i}: answer fields ${keys.join(',')}, expected ${SHAPE.join(',')}`);
    if (system.answers === 'constant') continue;
    const diff = Math.abs(a.json.churn_probability - row.probability);
    worst = Math.max(worst, Number.isFinite(diff) ? diff : Infinity);
    if (!(diff <= parity.tolerance))
      problems.push(
        `row ${i} (${row.customerID}): churn_probability ${a.json.churn_probability}, sklearn ${row.probability}`,
      );
    if (a.json.customer_id !== row.customerID)
      problems.push(`row ${i}: customer_id ${a.json.customer_id}, sent ${row.customerID}`);
    if (a.json.model_version !== '1' && a.json.model_version !== String(parity.version))
      problems.push(`row ${i}: model_version ${a.json.model_version}`);
  }
  return {
    rows: rows.length,
    max_abs_diff_vs_sklearn: system.answers === 'constant' ? null : worst,
    probabilities: system.answers === 'constant' ? null : answers.map((a) => a.json?.churn_probability),
    risk_categories: system.answers === 'constant' ? null : answers.map((a) => a.json?.risk_category),
    problems,
  };
}

/** Pairwise: the same row gets the same probability (within tolerance) and risk category. */
export function crossCheck(checks, tolerance) {
  const ids = Object.keys(checks).filter((id) => checks[id].probabilities);
  let worst = 0;
  const problems = [];
  for (let a = 0; a < ids.length; a++) {
    for (let b = a + 1; b < ids.length; b++) {
      const pa = checks[ids[a]];
      const pb = checks[ids[b]];
      for (let i = 0; i < pa.probabilities.length; i++) {
        const d = Math.abs(pa.probabilities[i] - pb.probabilities[i]);
        worst = Math.max(worst, d);
        if (!(d <= tolerance))
          problems.push(`row ${i}: ${ids[a]} ${pa.probabilities[i]} vs ${ids[b]} ${pb.probabilities[i]}`);
        if (pa.risk_categories[i] !== pb.risk_categories[i])
          problems.push(`row ${i}: ${ids[a]} ${pa.risk_categories[i]} vs ${ids[b]} ${pb.risk_categories[i]}`);
      }
    }
  }
  return { systems: ids, max_abs_diff_between_systems: worst, problems };
}
