// The model and version picker every page that scores shares: the choice lives in the store, the
// chosen version's description (schema, thresholds, answer names) is fetched when it changes.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, listModels, type ModelInfo, type ModelSummary, modelInfo } from './api.js';
import { setState, useConsoleState } from './store.js';

export interface Picked {
  readonly models: readonly ModelSummary[];
  /** The chosen version's description; null while loading or after an error. */
  readonly info: ModelInfo | null;
  readonly error: ApiError | null;
}

export function usePickedModel(): Picked {
  const { model, version, modelsRevision } = useConsoleState();
  const [models, setModels] = useState<readonly ModelSummary[]>([]);
  const [info, setInfo] = useState<ModelInfo | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    listModels().then(
      (r) => {
        setModels(r.models);
        if (model === '' && r.models[0]) setState({ model: r.models[0].name, version: '' });
      },
      (e: ApiError) => setError(e),
    );
  }, [modelsRevision]);

  useEffect(() => {
    if (model === '') return;
    let current = true;
    setInfo(null);
    modelInfo(model, version).then(
      (i) => {
        if (!current) return;
        setInfo(i);
        setError(null);
      },
      (e: unknown) => current && setError(e instanceof ApiError ? e : new ApiError(0, 'ERROR', String(e))),
    );
    return () => {
      current = false;
    };
  }, [model, version, modelsRevision]);

  return { models, info, error };
}

export function ModelPicker({ picked }: { picked: Picked }) {
  const { model, version } = useConsoleState();
  const summary = picked.models.find((m) => m.name === model);
  return (
    <div class="picker">
      <label>
        Model
        <select
          value={model}
          onChange={(e) => setState({ model: e.currentTarget.value, version: '', scored: null })}
        >
          {picked.models.map((m) => (
            <option key={m.name} value={m.name}>
              {m.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Version
        <select value={version} onChange={(e) => setState({ version: e.currentTarget.value, scored: null })}>
          <option value="">as routed (active {summary?.active_version ?? '…'}, canary if any)</option>
          {(summary?.versions ?? []).map((v) => (
            <option key={v} value={v}>
              {v} only
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
