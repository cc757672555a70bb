// What pages share while the console is open: the chosen model and version, the customer typed
// into the Score form and its answer (the "what would change it" page starts from them). In
// memory only; a reload starts afresh.
import { useEffect, useState } from 'preact/hooks';
import type { ModelInfo, Prediction } from './api.js';

/** Form values by field name, as typed (strings); converted to a record by form.ts. */
export type FormValues = Readonly<Record<string, string>>;

export interface Scored {
  readonly info: ModelInfo;
  /** The version pinned in the request, '' for the active one. */
  readonly pinned: string;
  readonly record: Readonly<Record<string, unknown>>;
  readonly answer: Prediction;
}

export interface ConsoleState {
  readonly model: string;
  /** '' = the active version. */
  readonly version: string;
  readonly values: FormValues;
  readonly scored: Scored | null;
  /** The admin token as typed; in memory only, never stored by the browser. */
  readonly adminToken: string;
  /** Bumped after an admin change, so that model descriptions are fetched again. */
  readonly modelsRevision: number;
}

let state: ConsoleState = { model: '', version: '', values: {}, scored: null, adminToken: '', modelsRevision: 0 };
const listeners = new Set<() => void>();

export function getState(): ConsoleState {
  return state;
}

export function setState(change: Partial<ConsoleState>): void {
  state = { ...state, ...change };
  for (const l of listeners) l();
}

/** The shared state, re-rendering the caller when it changes. */
export function useConsoleState(): ConsoleState {
  const [, bump] = useState(0);
  useEffect(() => {
    const l = () => bump((n) => n + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return state;
}
