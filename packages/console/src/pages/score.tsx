// Score one customer: the form generated from the version's schema, the answer, the gateway's
// field messages next to their fields.
import { useState } from 'preact/hooks';
import { ApiError, predict } from '../api.js';
import { AnswerView, ErrorBox } from '../answer.js';
import { Fields } from '../fields.js';
import { recordOf } from '../form.js';
import { ModelPicker, usePickedModel } from '../model-picker.js';
import { getState, setState, useConsoleState } from '../store.js';

export function ScorePage() {
  const picked = usePickedModel();
  const { values, scored, version } = useConsoleState();
  const [issues, setIssues] = useState<ReadonlyMap<string, string>>(new Map());
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const info = picked.info;

  async function submit(e: Event) {
    e.preventDefault();
    if (!info) return;
    const record = recordOf(info, getState().values);
    setBusy(true);
    try {
      const [answer] = await predict(info, version, [record]);
      setIssues(new Map());
      setError(null);
      setState({ scored: { info, pinned: version, record, answer: answer! } });
    } catch (err) {
      const api = err instanceof ApiError ? err : new ApiError(0, 'ERROR', String(err));
      const byField = new Map(api.issues().map((i) => [i.field, i.message.replace(/^row \d+: /, '')]));
      setIssues(byField);
      setError(byField.size > 0 ? null : api);
      setState({ scored: null });
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <ModelPicker picked={picked} />
      <ErrorBox error={picked.error} />
      {info && (
        <div class="two-columns">
          <form noValidate onSubmit={submit} aria-label="Customer">
            <Fields
              info={info}
              values={values}
              issues={issues}
              onChange={(name, value) => setState({ values: { ...getState().values, [name]: value } })}
            />
            <div class="actions">
              <button type="submit" disabled={busy}>
                Score
              </button>
              <button type="button" class="secondary" onClick={() => setState({ values: {}, scored: null })}>
                Clear
              </button>
            </div>
            {issues.size > 0 && (
              <p class="error-box" role="alert">
                {issues.size === 1 ? 'One field needs' : `${issues.size} fields need`} a change: see the messages next
                to {issues.size === 1 ? 'it' : 'them'}.
              </p>
            )}
            <ErrorBox error={error} />
          </form>
          <section aria-label="Answer" aria-live="polite">
            {scored ? (
              <>
                <h2>Answer</h2>
                <AnswerView info={scored.info} answer={scored.answer} />
                <p>
                  <a href="#/what-if">What would change it →</a>
                </p>
              </>
            ) : (
              <p class="muted">Fill in the customer and press Score.</p>
            )}
          </section>
        </div>
      )}
    </>
  );
}
