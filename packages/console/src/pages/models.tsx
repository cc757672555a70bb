// Models: the versions of a model and, with the admin token typed in, their states and the
// routing (active, canary, shadow) with the actions that change it; the chosen version's model
// card (metrics, risk thresholds, training data) and its drift per feature. Panels whose endpoint
// does not answer say so instead of breaking the page.
import { useEffect, useState } from 'preact/hooks';
import { type AdminModel, adminModel, rollback, route } from '../admin.js';
import { ApiError, getJson, type ModelInfo } from '../api.js';
import { Table } from '../table.js';
import { ErrorBox, riskClass } from '../answer.js';
import { ModelPicker, usePickedModel } from '../model-picker.js';
import { getState, setState, useConsoleState } from '../store.js';

type Card = Record<string, unknown> & {
  description?: string;
  created?: string;
  algorithm?: { name?: string; library?: string };
  metrics?: { test?: Record<string, number>; split?: { test_rows?: number } };
  training_data?: { path?: string; rows?: number; positive_share?: number; sha256?: string };
  risk_thresholds?: { category: string; max: number }[];
  fixed_features?: string[];
};

interface Drift {
  window: { rows: number; min_rows: number; max_rows?: number; seconds?: number };
  features: { name: string; psi: number | null; status: string }[];
  prediction: { psi: number | null; status: string };
}

const toError = (e: unknown) => (e instanceof ApiError ? e : new ApiError(0, 'ERROR', String(e)));

/** GET `path` whenever `key` changes: the body, or the error it answered. */
function useFetch<T>(path: string | null, key: unknown): { data: T | null; error: ApiError | null } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    setData(null);
    setError(null);
    if (path === null) return;
    let current = true;
    getJson<T>(path).then(
      (d) => current && setData(d),
      (e: unknown) => current && setError(toError(e)),
    );
    return () => {
      current = false;
    };
  }, [path, key]);
  return { data, error };
}

export function ModelsPage() {
  const picked = usePickedModel();
  const info = picked.info;
  return (
    <>
      <ModelPicker picked={picked} />
      <ErrorBox error={picked.error} />
      {info && (
        <>
          <VersionsPanel info={info} />
          <CardPanel info={info} />
          <DriftPanel info={info} />
        </>
      )}
    </>
  );
}

function VersionsPanel({ info }: { info: ModelInfo }) {
  const { adminToken } = useConsoleState();
  const [typed, setTyped] = useState('');
  const [admin, setAdmin] = useState<AdminModel | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setAdmin(null);
    setError(null);
    if (adminToken === '') return;
    adminModel(adminToken, info.name).then(setAdmin, (e: unknown) => setError(toError(e)));
  }, [adminToken, info.name]);

  async function act(op: () => Promise<AdminModel>) {
    setBusy(true);
    try {
      setAdmin(await op());
      setError(null);
      // The public description (active version, versions) changed too.
      setState({ modelsRevision: getState().modelsRevision + 1 });
    } catch (e) {
      setError(toError(e));
    } finally {
      setBusy(false);
    }
  }

  const routing = admin?.routing;
  const states = new Map((admin?.versions ?? []).map((v) => [v.version, v]));
  const versions = admin ? admin.versions.map((v) => v.version) : info.versions;
  return (
    <section aria-labelledby="versions-title">
      <h2 id="versions-title">Versions</h2>
      <form
        class="token"
        onSubmit={(e) => {
          e.preventDefault();
          setState({ adminToken: typed.trim() });
        }}
      >
        <label for="admin-token">Admin token</label>
        <input
          id="admin-token"
          type="password"
          autocomplete="off"
          value={typed}
          onInput={(e) => setTyped(e.currentTarget.value)}
        />
        <button type="submit">Use</button>
        {adminToken !== '' && (
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setTyped('');
              setState({ adminToken: '' });
            }}
          >
            Forget
          </button>
        )}
        <small class="muted">Kept in this page's memory only; needed for states, routing and its actions.</small>
      </form>
      <ErrorBox error={error} />
      <Table label="Versions" headers={['Version', 'Role', 'State', admin !== null && 'Actions']}>
            {versions.map((v) => {
              const s = states.get(v);
              const role = routing
                ? [
                    v === routing.active && 'active',
                    v === routing.canary?.version && `canary ${Math.round(routing.canary.weight * 100)} %`,
                    v === routing.shadow && 'shadow',
                    v === routing.previous && 'previous',
                  ]
                    .filter(Boolean)
                    .join(', ')
                : v === info.active_version
                  ? 'active'
                  : '';
              return (
                <tr key={v} data-version={v}>
                  <th scope="row">{v}</th>
                  <td class="role">{role}</td>
                  <td class="state">
                    {s ? (
                      <>
                        {s.state}
                        {s.reason && <small class="muted"> {s.reason}: {s.message}</small>}
                      </>
                    ) : (
                      <span class="muted">{adminToken === '' ? 'needs the admin token' : '…'}</span>
                    )}
                  </td>
                  {admin && routing && (
                    <td class="actions-cell">
                      {v !== routing.active && s?.state === 'ready' && (
                        <>
                          <button type="button" disabled={busy} onClick={() => act(() => route(adminToken, info.name, { active: v }))}>
                            Make active
                          </button>
                          <CanaryButton
                            version={v}
                            busy={busy}
                            onSet={(weight) => act(() => route(adminToken, info.name, { canary: { version: v, weight } }))}
                          />
                          {v !== routing.shadow && (
                            <button
                              type="button"
                              class="secondary"
                              disabled={busy}
                              onClick={() => act(() => route(adminToken, info.name, { shadow: v }))}
                            >
                              Shadow
                            </button>
                          )}
                        </>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </Table>
      {admin && routing && (
        <div class="actions">
          {routing.canary && (
            <ChangeButton label="Stop the canary" busy={busy} onClick={() => act(() => route(adminToken, info.name, { canary: null }))} />
          )}
          {routing.shadow && (
            <ChangeButton label="Stop the shadow" busy={busy} onClick={() => act(() => route(adminToken, info.name, { shadow: null }))} />
          )}
          {routing.previous && (
            <ChangeButton
              label={`Roll back to ${routing.previous}`}
              busy={busy}
              onClick={() => act(() => rollback(adminToken, info.name))}
            />
          )}
        </div>
      )}
    </section>
  );
}

function ChangeButton({ label, busy, onClick }: { label: string; busy: boolean; onClick: () => void }) {
  return (
    <button type="button" class="secondary" disabled={busy} onClick={onClick}>
      {label}
    </button>
  );
}

/** A canary weight in percent and the button that sets it. */
function CanaryButton({ version, busy, onSet }: { version: string; busy: boolean; onSet: (weight: number) => void }) {
  const [percent, setPercent] = useState('10');
  const id = `canary-weight-${version}`;
  return (
    <span class="canary">
      <label for={id}>Canary % for {version}</label>
      <input id={id} type="text" inputMode="decimal" size={4} value={percent} onInput={(e) => setPercent(e.currentTarget.value)} />
      <button type="button" class="secondary" disabled={busy} onClick={() => onSet(Number(percent) / 100)}>
        Canary
      </button>
    </span>
  );
}

function CardPanel({ info }: { info: ModelInfo }) {
  const path = `v1/models/${encodeURIComponent(info.name)}/versions/${encodeURIComponent(info.version)}/card`;
  const { data: card, error } = useFetch<Card>(path, info);
  return (
    <section aria-labelledby="card-title">
      <h2 id="card-title">Model card: version {info.version}</h2>
      {error && <p class="muted">The model card is not available: {error.message}</p>}
      {card && (
        <>
          {card.description && <p>{card.description}</p>}
          <dl class="facts">
            {card.algorithm?.name && <Fact term="Algorithm" value={`${card.algorithm.name} (${card.algorithm.library ?? ''})`} />}
            {card.created && <Fact term="Created" value={card.created} />}
            {card.training_data && (
              <Fact
                term="Training data"
                value={`${card.training_data.path ?? ''}: ${card.training_data.rows ?? '?'} rows, ${
                  card.training_data.positive_share !== undefined
                    ? `${(card.training_data.positive_share * 100).toFixed(1)} % positive`
                    : ''
                }`}
              />
            )}
            {card.fixed_features && <Fact term="Fixed features" value={card.fixed_features.join(', ')} />}
          </dl>
          {card.metrics?.test && (
            <Table
              label="Test metrics"
              variant="compact"
              caption={
                <>Metrics on the test split{card.metrics.split?.test_rows ? ` (${card.metrics.split.test_rows} rows)` : ''}</>
              }
            >
                  {Object.entries(card.metrics.test).map(([k, v]) => (
                    <tr key={k} data-metric={k}>
                      <th scope="row">{k}</th>
                      <td class="num">{typeof v === 'number' ? v.toFixed(4) : String(v)}</td>
                    </tr>
                  ))}
                </Table>
          )}
          {card.risk_thresholds && (
            <Table label="Risk thresholds" variant="compact" caption="Risk categories">
                  {card.risk_thresholds.map((t, i, all) => (
                    <tr key={t.category}>
                      <th scope="row">
                        <span class={riskClass(t.category)}>{t.category}</span>
                      </th>
                      <td>
                        {i === 0 ? '0' : `above ${all[i - 1]!.max}`} up to {t.max}
                      </td>
                    </tr>
                  ))}
                </Table>
          )}
        </>
      )}
    </section>
  );
}

function Fact({ term, value }: { term: string; value: string }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function DriftPanel({ info }: { info: ModelInfo }) {
  const path = `v1/models/${encodeURIComponent(info.name)}/drift?version=${encodeURIComponent(info.version)}`;
  const [tick, setTick] = useState(0);
  const { data: drift, error } = useFetch<Drift>(path, `${info.name}/${info.version}/${tick}`);
  return (
    <section aria-labelledby="drift-title">
      <h2 id="drift-title">Drift: version {info.version}</h2>
      {error && (
        <p class="muted" data-testid="drift-unavailable">
          Drift is not available: {error.message}
        </p>
      )}
      {drift && (
        <>
          <p>
            PSI of each feature against the model card's reference over the last {drift.window.rows} rows
            {drift.window.max_rows ? ` (window ${drift.window.max_rows} rows` : ` (window ${drift.window.seconds} s`}, at
            least {drift.window.min_rows} needed). Prediction:{' '}
            <span class={`drift drift-${drift.prediction.status}`}>
              {psiText(drift.prediction.psi)} {drift.prediction.status.replace('_', ' ')}
            </span>.{' '}
            <button type="button" class="secondary" onClick={() => setTick((n) => n + 1)}>
              Refresh
            </button>
          </p>
          <Table label="Drift per feature" headers={['Feature', 'PSI', 'Status']}>
                {[...drift.features]
                  .sort((a, b) => (b.psi ?? -1) - (a.psi ?? -1))
                  .map((f) => (
                    <tr key={f.name} data-feature={f.name} data-psi={f.psi ?? ''}>
                      <th scope="row">{f.name}</th>
                      <td class="num">{psiText(f.psi)}</td>
                      <td>
                        <span class={`drift drift-${f.status}`}>{f.status.replace('_', ' ')}</span>
                      </td>
                    </tr>
                  ))}
              </Table>
        </>
      )}
    </section>
  );
}

const psiText = (psi: number | null) => (psi === null ? '—' : psi.toFixed(3));
