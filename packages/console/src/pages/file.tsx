// Score a file: a CSV with the data set's columns, split into requests within the gateway's
// limits with a progress bar; counts per risk category, every row that failed with its field
// messages, and the scored file to download (the input's columns, then the answer's).
import { useState } from 'preact/hooks';
import type { ModelInfo } from '../api.js';
import { Table } from '../table.js';
import { ErrorBox, riskClass } from '../answer.js';
import { type FileRows, fileRows, type RowResult, scoreRows } from '../bulk.js';
import { type CsvTable, parseCsv, toCsv } from '../csv.js';
import { ModelPicker, usePickedModel } from '../model-picker.js';
import { useConsoleState } from '../store.js';

/** Rows shown in the page's result table; the download has them all. */
const SHOWN = 100;

interface Loaded {
  readonly name: string;
  readonly table: CsvTable;
  readonly rows: FileRows;
}

export function FilePage() {
  const picked = usePickedModel();
  const { version } = useConsoleState();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [readError, setReadError] = useState<{ code: string; message: string } | null>(null);
  const [done, setDone] = useState(0);
  const [running, setRunning] = useState(false);
  const [results, setResults] = useState<RowResult[] | null>(null);
  const info = picked.info;

  async function choose(e: Event) {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    setLoaded(null);
    setResults(null);
    setReadError(null);
    if (!file || !info) return;
    try {
      const table = parseCsv(await file.text());
      setLoaded({ name: file.name, table, rows: fileRows(info, table) });
    } catch (err) {
      setReadError({ code: 'UNREADABLE_CSV', message: (err as Error).message });
    }
  }

  async function run() {
    if (!loaded || !info) return;
    setRunning(true);
    setDone(0);
    setResults(null);
    try {
      setResults(await scoreRows(info, version, loaded.rows.records, setDone));
    } finally {
      setRunning(false);
    }
  }

  const total = loaded?.rows.records.length ?? 0;
  return (
    <>
      <ModelPicker picked={picked} />
      <ErrorBox error={picked.error} />
      <p>
        <label for="csv-file">CSV file</label>{' '}
        <input id="csv-file" type="file" accept=".csv,text/csv" onChange={choose} disabled={running || !info} />
      </p>
      <p class="muted">
        A header row naming the columns: the features of the chosen version
        {info ? ` (${info.features.map((f) => f.name).join(', ')})` : ''} and an id column (
        {info?.id_fields.join(' or ') ?? 'id'}). Larger files are sent in requests of at most{' '}
        {info?.limits.max_instances ?? '…'} rows.
      </p>
      <ErrorBox error={readError} />
      {loaded && info && (
        <>
          <p data-testid="file-summary">
            {loaded.name}: {total} rows
            {loaded.rows.idColumn ? `, id column ${loaded.rows.idColumn}` : ', no id column'}
            {loaded.rows.ignored.length > 0 ? `; not sent: ${loaded.rows.ignored.join(', ')}` : ''}
            {loaded.rows.missing.length > 0 ? `; no column for ${loaded.rows.missing.join(', ')}` : ''}.
          </p>
          <div class="actions">
            <button type="button" onClick={run} disabled={running || total === 0}>
              Score {total} rows
            </button>
            <progress id="progress" max={Math.max(total, 1)} value={done} aria-label="Rows scored" />
            <span aria-live="polite" data-testid="progress-text">
              {done} of {total} rows
            </span>
          </div>
        </>
      )}
      {loaded && info && results && <Results info={info} loaded={loaded} results={results} />}
    </>
  );
}

function Results({ info, loaded, results }: { info: ModelInfo; loaded: Loaded; results: RowResult[] }) {
  const counts = new Map<string, number>(info.risk_thresholds.map((t) => [t.category, 0]));
  let failed = 0;
  for (const r of results) {
    if (r.answer) counts.set(r.answer.risk ?? 'none', (counts.get(r.answer.risk ?? 'none') ?? 0) + 1);
    else failed++;
  }
  const idOf = (i: number) => (loaded.rows.idColumn ? String(loaded.rows.records[i]?.[loaded.rows.idColumn] ?? '') : '');
  const bad = results.map((r, i) => ({ r, i })).filter(({ r }) => !r.answer);

  function download() {
    const header = [...loaded.table.header, info.answer.probability_field, info.answer.risk_field, 'model_version', 'error'];
    const rows = loaded.table.rows.map((cells, i) => {
      const r = results[i]!;
      const error = r.issues ? r.issues.map((x) => `${x.field}: ${x.message}`).join('; ') : (r.error ?? '');
      return [
        ...cells,
        r.answer ? String(r.answer.probability) : '',
        r.answer?.risk ?? '',
        r.answer?.version ?? '',
        error,
      ];
    });
    const url = URL.createObjectURL(new Blob([toCsv(header, rows)], { type: 'text/csv' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${loaded.name.replace(/\.csv$/i, '')}-scored.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  return (
    <>
      <h2>Counts</h2>
      <Table label="Rows per risk category" variant="counts">
            {[...counts].map(([category, n]) => (
              <tr key={category} data-category={category} data-count={n}>
                <th scope="row">
                  <span class={riskClass(category)}>{category}</span>
                </th>
                <td class="num">{n}</td>
              </tr>
            ))}
            <tr data-category="(error)" data-count={failed}>
              <th scope="row">rows with errors</th>
              <td class="num">{failed}</td>
            </tr>
          </Table>
      <p>
        <button type="button" onClick={download}>
          Download the scored CSV
        </button>
      </p>
      {bad.length > 0 && (
        <>
          <h2>Rows with errors ({bad.length})</h2>
          <Table label="Rows with errors" headers={['Row', 'Line', 'Id', 'What is wrong']}>
                {bad.map(({ r, i }) => (
                  <tr key={i} data-row={i}>
                    <td class="num">{i + 1}</td>
                    <td class="num">{loaded.table.lines[i]}</td>
                    <td>{idOf(i)}</td>
                    <td>
                      {r.issues ? (
                        <ul class="issues">
                          {r.issues.map((x) => (
                            <li key={x.field} data-field={x.field}>
                              <strong>{x.field}</strong>: {x.message}
                            </li>
                          ))}
                        </ul>
                      ) : (
                        r.error
                      )}
                    </td>
                  </tr>
                ))}
              </Table>
        </>
      )}
      <h2>Scored rows</h2>
      <p class="muted">
        {results.length > SHOWN ? `The first ${SHOWN} of ${results.length}; the download has every row.` : ''}
      </p>
      <Table
        label="Scored rows"
        headers={['Row', 'Id', info.answer.probability_field, info.answer.risk_field, 'Version']}
      >
            {results.slice(0, SHOWN).map((r, i) => (
              <tr key={i}>
                <td class="num">{i + 1}</td>
                <td>{idOf(i)}</td>
                <td class="num">{r.answer ? r.answer.probability.toFixed(4) : '—'}</td>
                <td>{r.answer ? <span class={riskClass(r.answer.risk)}>{r.answer.risk ?? 'none'}</span> : 'error'}</td>
                <td>{r.answer?.version ?? ''}</td>
              </tr>
            ))}
          </Table>
    </>
  );
}
