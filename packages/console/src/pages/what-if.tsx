// What would change it: for the customer scored last, every single-feature change the schema
// allows, scored in one batch request against the version that answered, ranked by the new
// probability. Changes of fixed features (from the card) are listed apart: the business cannot
// make them, but they explain the score.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, predict } from '../api.js';
import { chunks } from '../bulk.js';
import { Table } from '../table.js';
import { ErrorBox, percent, riskClass } from '../answer.js';
import { useConsoleState } from '../store.js';
import { changesOf, describeValue, ranked, recordWith, type Scored } from '../what-if.js';

/** Lowering changes shown before the rest is folded away. */
const TOP = 10;

export function WhatIfPage() {
  const { scored } = useConsoleState();
  const [results, setResults] = useState<Scored[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    setResults(null);
    setError(null);
    if (!scored) return;
    let current = true;
    const { info, record, answer } = scored;
    const changes = changesOf(info.features, info.fixed_features, record);
    // The version that answered, pinned: every variant is compared with the same model.
    const records = changes.map((c) => recordWith(record, c));
    const run = async () => {
      const out: Scored[] = [];
      // One request, unless the variants outgrow the gateway's limits.
      for (const [from, to] of chunks(info, records)) {
        const answers = await predict(info, answer.version, records.slice(from, to));
        for (let i = from; i < to; i++) out.push({ ...changes[i]!, answer: answers[i - from]! });
      }
      return out;
    };
    run().then(
      (r) => current && setResults(r),
      (e: unknown) => current && setError(e instanceof ApiError ? e : new ApiError(0, 'ERROR', String(e))),
    );
    return () => {
      current = false;
    };
  }, [scored]);

  if (!scored)
    return (
      <p>
        Score a customer first on the <a href="#/score">Score</a> page; this page then tries every change of one
        feature and ranks what lowers the risk most.
      </p>
    );
  const base = scored.answer.probability;
  const actionable = results ? ranked(results.filter((r) => !r.fixed)) : [];
  const lowering = actionable.filter((r) => r.answer.probability < base);
  const rest = actionable.filter((r) => r.answer.probability >= base);
  const fixed = results ? ranked(results.filter((r) => r.fixed)) : [];
  return (
    <>
      <p>
        Customer {describeValue(scored.record[scored.info.id_fields[0] ?? ''])}: {scored.info.answer.probability_field}{' '}
        <strong data-testid="base-probability">{base.toFixed(4)}</strong> ({percent(base)}),{' '}
        <span class={riskClass(scored.answer.risk)}>{scored.answer.risk ?? 'none'}</span>, version{' '}
        {scored.answer.version}.
      </p>
      <ErrorBox error={error} />
      {!results && !error && <p class="muted">Scoring every change…</p>}
      {results && (
        <>
          <h2>Changes that lower the risk most</h2>
          {lowering.length === 0 ? (
            <p>No single change the business can make lowers this customer's probability.</p>
          ) : (
            <ChangeTable rows={lowering.slice(0, TOP)} base={base} label="Changes that lower the risk" ranked />
          )}
          {(lowering.length > TOP || rest.length > 0) && (
            <details>
              <summary>
                All {actionable.length} changes the business can make ({lowering.length} lower it, {rest.length} do
                not)
              </summary>
              <ChangeTable rows={actionable} base={base} label="Every change the business can make" ranked />
            </details>
          )}
          <h2>Not in the business's hands</h2>
          <p class="muted">
            Fixed by the model card ({scored.info.fixed_features.join(', ') || 'none'}): shown to explain the score, not
            as offers.
          </p>
          {fixed.length > 0 && <ChangeTable rows={fixed} base={base} label="Changes of fixed features" />}
        </>
      )}
    </>
  );
}

function ChangeTable({
  rows,
  base,
  label,
  ranked: numbered = false,
}: {
  rows: readonly Scored[];
  base: number;
  label: string;
  ranked?: boolean;
}) {
  return (
    <Table label={label} headers={[numbered && '#', 'Feature', 'From', 'To', 'New probability', 'Change', 'Risk']}>
          {rows.map((r, i) => (
            <tr
              key={`${r.feature}=${r.to}`}
              data-feature={r.feature}
              data-to={JSON.stringify(r.to)}
              data-probability={r.answer.probability}
            >
              {numbered && <td>{i + 1}</td>}
              <th scope="row">{r.feature}</th>
              <td>{describeValue(r.from)}</td>
              <td>{describeValue(r.to)}</td>
              <td class="num">{r.answer.probability.toFixed(4)}</td>
              <td class="num">{signedPoints(r.answer.probability - base)}</td>
              <td>
                <span class={riskClass(r.answer.risk)}>{r.answer.risk ?? 'none'}</span>
              </td>
            </tr>
          ))}
        </Table>
  );
}

/** -0.1234 -> "−12.3 pts" */
function signedPoints(d: number): string {
  const pts = (d * 100).toFixed(1);
  return `${d > 0 ? '+' : d < 0 ? '−' : '±'}${pts.replace('-', '')} pts`;
}
