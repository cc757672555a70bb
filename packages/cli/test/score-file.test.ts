// Scoring a file (`ortline score`): 600 rows of the training data, a few broken on purpose, give
// in input order the answers the HTTP API gives for the same rows, whatever the batch size; the
// broken rows land in the reject file with the API's messages and their lines; the exit code says
// whether any row was rejected; unusable inputs fail naming why.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledChurn, ensureBuilt, ortlineBin, postJson, startInProcess } from '../../gateway/test/helpers.js';
import { csvLine } from '../src/bulk/csv-writer.js';
import { type BulkModel, loadBulkModel } from '../src/bulk/model.js';
import { scoreFile } from '../src/bulk/score-file.js';
import { col, header, readCsv, telcoLines as source, telcoRows } from './files.js';

const NUMERIC = new Set(['SeniorCitizen', 'tenure', 'MonthlyCharges', 'TotalCharges']);

/** 600 data rows; the edits say what each changed row tests. */
const rows = telcoRows(600);
rows[5]![col('tenure')] = '-3'; // out of range
rows[17]![col('Contract')] = 'Weekly'; // not a category
rows[17]![col('gender')] = 'X'; // and a second bad field in the same row
rows[40]!.pop(); // one field short
rows[60]![col('customerID')] = '60,"sixty"'; // an id that needs quoting
rows[80]![col('Partner')] = ' Yes '; // white space around a value is not part of it
rows[81]![col('TotalCharges')] = ''; // an empty optional cell: the model's default
const BAD = [5, 17, 40];
const text = [header, ...rows].map((r) => csvLine(r)).join('');

/** The record an API client would send for a row: trimmed cells, numbers as numbers, blanks left out. */
function record(cells: readonly string[]): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  header.forEach((c, i) => {
    const v = (cells[i] ?? '').trim();
    if (c === 'Churn' || v === '') return;
    r[c] = NUMERIC.has(c) && Number.isFinite(Number(v)) ? Number(v) : v;
  });
  return r;
}

let work: string;
let input: string;
let model: BulkModel;
/** Per data row: the API's answer, or its 422 issues. */
const api = new Map<number, { probability?: number; risk?: string; issues?: unknown[] }>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ortline-score-'));
  input = join(work, 'customers.csv');
  writeFileSync(input, text);
  const gw = await startInProcess();
  try {
    for (let i = 0; i < rows.length; i++) {
      if (i === 40) continue; // a short row is the file's problem, not one the API sees
      const r = await postJson(`${gw.url}/v1/models/churn/versions/1/predict`, { instances: [record(rows[i]!)] });
      if (r.status === 200) {
        const p = r.json.predictions[0];
        api.set(i, { probability: p.churn_probability, risk: p.risk_category });
      } else {
        expect(r.status).toBe(422);
        api.set(i, {
          issues: r.json.error.details.issues.map((x: { field: string; code: string; message: string }) => ({
            field: x.field,
            code: x.code,
            message: x.message.replace(/^row \d+: /, ''),
          })),
        });
      }
    }
  } finally {
    await gw.close();
  }
  model = await loadBulkModel(bundledChurn('1'), { batchRows: 64 });
});

afterAll(async () => {
  await model?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('scoreFile', () => {
  it("answers every good row in input order as the HTTP API does, and rejects the bad ones with the API's messages", async () => {
    const output = join(work, 'scored.csv');
    const summary = await scoreFile(model, { input, output, batchRows: 64 });
    expect(summary).toMatchObject({ rows: 600, scored: 597, rejected: 3, idColumn: 'customerID', ignored: ['Churn'] });
    expect(summary.rejects).toBe(join(work, 'scored.rejects.csv'));

    const [head, ...scored] = readCsv(output);
    expect(head).toEqual(['customerID', 'churn_probability', 'risk_category', 'model_version']);
    const good = rows.map((_, i) => i).filter((i) => !BAD.includes(i));
    expect(scored.map((r) => r[0])).toEqual(good.map((i) => rows[i]![0]!.trim()));
    scored.forEach((r, k) => {
      const want = api.get(good[k]!)!;
      expect(want.probability, `row ${good[k]}`).toBeDefined();
      expect(r.slice(1)).toEqual([String(want.probability), want.risk, '1']);
    });

    const [rejectHead, ...rejected] = readCsv(summary.rejects);
    expect(rejectHead).toEqual([...header, 'reject_line', 'reject_errors']);
    expect(rejected.map((r) => r.at(-2))).toEqual(BAD.map((i) => String(i + 2)));
    for (const [k, i] of BAD.entries()) {
      const errors = JSON.parse(rejected[k]!.at(-1)!);
      if (i === 40) {
        const message = `${header.length - 1} fields where the header has ${header.length}`;
        expect(errors).toEqual([{ field: '(row)', code: 'field_count', message }]);
      } else expect(errors).toEqual(api.get(i)!.issues);
      // The row as it was, so that it can be mended and scored again.
      expect(rejected[k]!.slice(0, rows[i]!.length)).toEqual(rows[i]);
    }
  });

  it('gives the same file whatever the batch size, one row at a time included', async () => {
    const outputs: string[] = [];
    for (const batchRows of [1, 7, 4096]) {
      const output = join(work, `scored-${batchRows}.csv`);
      await scoreFile(model, { input, output, batchRows });
      outputs.push(readFileSync(output, 'utf8'));
    }
    expect(outputs[1]).toBe(outputs[0]);
    expect(outputs[2]).toBe(outputs[0]);
  });

  it('reads a file from its bytes as CsvReader reads its text: the same answers, rejects and lines', async () => {
    // Line ends, marks and cells the byte path must read as the text path does; the quoted row
    // comes late, so that the byte path hands over to CsvReader in the middle of the file.
    const plain = rows.slice(100, 160).map((r) => r.join(','));
    plain[3] = plain[3]!.replace('Yes', '\u00a0Yes'); // Unicode white space: kept, so no category
    plain[4] = plain[4]!.replace(',Female,', ',Femäle,'); // a non-ASCII cell that is no category
    plain[6] = `${plain[6]},extra`; // a field too many
    plain[7] = plain[7]!.replace(/,[^,]*$/, ''); // a field short
    plain[8] = plain[8]!.replace(/,(\d+),/, ',1e1,'); // a number in another form
    plain[9] = plain[9]!.replace(/,(\d+\.\d+),/, ',\t$1 ,'); // padded with ASCII white space
    const body = (lines: string[], end: string) => lines.join(end);
    const files: Record<string, string> = {
      crlf: `\ufeff${header.join(',')}\r\n\r\n${body(plain, '\r\n')}\r\n\r\n`,
      'no-final-line-end': `${header.join(',')}\n${body(plain, '\n')}`,
      'final-cr': `${header.join(',')}\n${body(plain, '\n')}\r`,
      'blank-lines': `\n\n${header.join(',')}\n${body(plain.slice(0, 30), '\n')}\n\n\n${body(plain.slice(30), '\n')}\n`,
      'late-quote': `${header.join(',')}\n${body(plain.slice(0, 40), '\n')}\n"q,1"${plain[40]!.slice(plain[40]!.indexOf(','))}\n"a\nb"${plain[41]!.slice(plain[41]!.indexOf(','))}\n${body(plain.slice(42), '\n')}\n`,
      'quoted-header': `"${header[0]}",${header.slice(1).join(',')}\n${body(plain, '\n')}\n`,
    };
    for (const [name, content] of Object.entries(files)) {
      const file = join(work, `${name}.csv`);
      writeFileSync(file, content);
      for (const batchRows of [1, 3, 4096]) {
        const a = await scoreFile(model, { input: file, output: join(work, `${name}-b.csv`), batchRows });
        const b = await scoreFile(model, {
          input: file,
          output: join(work, `${name}-t.csv`),
          batchRows,
          csvAsText: true,
        });
        expect(a.rows, name).toBe(60);
        expect({ ...a, seconds: 0, output: '', rejects: '' }, name).toEqual({
          ...b,
          seconds: 0,
          output: '',
          rejects: '',
        });
        expect(readFileSync(a.output, 'utf8'), name).toBe(readFileSync(b.output, 'utf8'));
        expect(readFileSync(a.rejects, 'utf8'), name).toBe(readFileSync(b.rejects, 'utf8'));
      }
    }
    // The rejects name their lines (the header is line 1, then a blank one) and why.
    const crlf = readCsv(join(work, 'crlf-b.rejects.csv'));
    expect(crlf.slice(1).map((r) => [r.at(-2), JSON.parse(r.at(-1)!)[0].code])).toEqual([
      ['6', 'unknown_category'],
      ['7', 'unknown_category'],
      ['9', 'field_count'],
      ['10', 'field_count'],
      ['11', 'out_of_range'],
    ]);
  });

  it('numbers the rows when the file has no id column', async () => {
    const plain = join(work, 'no-id.csv');
    const keep = header.map((_, i) => i).filter((i) => header[i] !== 'customerID');
    writeFileSync(plain, [header, ...rows.slice(0, 3)].map((r) => csvLine(keep.map((i) => r[i]!))).join(''));
    const output = join(work, 'no-id-scored.csv');
    const summary = await scoreFile(model, { input: plain, output });
    expect(summary.idColumn).toBeNull();
    const out = readCsv(output);
    expect(out.map((r) => r[0])).toEqual(['row', '1', '2', '3']);
    expect(out.slice(1).map((r) => Number(r[1]))).toEqual([0, 1, 2].map((i) => api.get(i)!.probability));
  });
});

describe('ortline score', () => {
  const bin = ortlineBin;
  const score = (...args: string[]) => spawnSync(process.execPath, [bin, 'score', ...args], { encoding: 'utf8' });
  beforeAll(() => ensureBuilt());

  it('exits 3 when rows were rejected, 0 when none were, and sums up on stderr', () => {
    const r = score('--model', bundledChurn('1'), input, '-o', join(work, 'cli.csv'));
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/600 rows, 597 scored, 3 rejected in [\d.]+ s \(\d+ rows\/s\)/);
    expect(r.stderr).toContain(`rejects: ${join(work, 'cli.rejects.csv')}`);
    expect(r.stderr).toContain('not sent: Churn');
    expect(readFileSync(join(work, 'cli.csv'), 'utf8')).toBe(readFileSync(join(work, 'scored-7.csv'), 'utf8'));

    const clean = join(work, 'clean.csv');
    writeFileSync(clean, [header, ...rows.slice(0, 5)].map((r) => csvLine(r)).join(''));
    const ok = score(
      '--model',
      bundledChurn('1'),
      clean,
      '-o',
      join(work, 'clean-out.csv'),
      '--rejects',
      join(work, 'r.csv'),
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/5 rows, 5 scored, 0 rejected/);
    expect(readFileSync(join(work, 'r.csv'), 'utf8')).toBe(csvLine([...header, 'reject_line', 'reject_errors']));
  });

  it('draws a progress bar on a terminal, and only the summary line otherwise', () => {
    const big = join(work, 'big.csv');
    writeFileSync(
      big,
      [header, ...Array.from({ length: 20 }, () => rows.slice(100, 300)).flat()].map((r) => csvLine(r)).join(''),
    );
    const args = ['--model', bundledChurn('1'), big, '-o', join(work, 'big-out.csv'), '--batch-rows', '16'];
    // util-linux's `script` runs the command on a pseudo-terminal.
    const tty = spawnSync('script', ['-qec', [process.execPath, bin, 'score', ...args].join(' '), '/dev/null'], {
      encoding: 'utf8',
    });
    expect(tty.status, tty.stdout).toBe(0);
    const frames = tty.stdout.split('\r').filter((f) => f.startsWith('['));
    expect(frames.length).toBeGreaterThan(0);
    // Each frame ends by erasing the rest of the line (ESC [K); the bar is cleared before the summary.
    const ERASE = '\u001b[K';
    for (const f of frames) {
      expect(f).toMatch(/^\[[# ]{24}\] +\d+% \d+ rows, \d+ rows\/s, ETA \d+ s/);
      expect(f.endsWith(ERASE)).toBe(true);
    }
    expect(tty.stdout).toContain(`\r${ERASE}ortline score: ${big}: 4000 rows, 4000 scored`);
    const piped = score(...args);
    expect(piped.status).toBe(0);
    expect(piped.stderr).not.toContain('\r');
    expect(piped.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('fails (exit 1) naming what makes the input unusable, before scoring anything', () => {
    const cases: [string, string, RegExp][] = [
      [
        'no-tenure.csv',
        source
          .map((l) =>
            l
              .split(',')
              .filter((_, i) => i !== col('tenure'))
              .join(','),
          )
          .join('\n'),
        /MISSING_COLUMNS .*tenure/,
      ],
      [
        'broken.csv',
        `${source[0]}\n${source[1]}\n"unclosed,1\n`,
        /MALFORMED_CSV .*line 3: a quoted field is never closed/,
      ],
      ['twice.csv', `${source[0]},tenure\n`, /DUPLICATE_COLUMN .*"tenure"/],
      ['empty.csv', '', /EMPTY_INPUT/],
    ];
    for (const [name, body, message] of cases) {
      writeFileSync(join(work, name), body);
      const r = score('--model', bundledChurn('1'), join(work, name), '-o', join(work, `out-${name}`));
      expect(r.status, name).toBe(1);
      expect(r.stderr, name).toMatch(message);
    }
    const missing = score('--model', bundledChurn('1'), join(work, 'nope.csv'), '-o', join(work, 'x.csv'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/UNREADABLE_INPUT .*nope\.csv/);
    const same = score('--model', bundledChurn('1'), input, '-o', input);
    expect(same.status).toBe(1);
    expect(same.stderr).toMatch(/SAME_FILE/);
    expect(readFileSync(input, 'utf8')).toBe(text);
    const nowhere = score('--model', bundledChurn('1'), input, '-o', join(work, 'no-such-folder', 'x.csv'));
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toMatch(/UNWRITABLE_OUTPUT .*no-such-folder/);
    const notModel = score('--model', work, input, '-o', join(work, 'x.csv'));
    expect(notModel.status).toBe(1);
    expect(notModel.stderr).toMatch(/UNKNOWN_MODEL .*no model\.onnx/);
  });

  it('scores folders into an output folder; N shards split the files between them, each file once', () => {
    const dir = join(work, 'in');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const part = (from: number, to: number) => [header, ...rows.slice(from, to)].map((r) => csvLine(r)).join('');
    writeFileSync(join(dir, 'a.csv'), part(0, 10)); // row 5 is bad
    writeFileSync(join(dir, 'b.csv'), part(100, 110));
    writeFileSync(join(dir, 'c.csv'), part(200, 210));
    writeFileSync(join(dir, 'notes.txt'), 'not scored');
    writeFileSync(join(dir, 'sub', 'd.csv'), part(300, 310)); // subfolders are not read
    const written = (out: string) => readdirSync(out).sort();

    const all = score('--model', bundledChurn('1'), dir, '-o', join(work, 'out-all/'));
    expect(all.status, all.stderr).toBe(3);
    expect(all.stderr).toMatch(/3 of 3 files, 30 rows, 29 scored, 1 rejected/);
    expect(written(join(work, 'out-all'))).toEqual([
      'a.csv',
      'a.rejects.csv',
      'b.csv',
      'b.rejects.csv',
      'c.csv',
      'c.rejects.csv',
    ]);

    const shards = [0, 1].map((i) => {
      const out = join(work, `out-shard-${i}`);
      const r = score('--model', bundledChurn('1'), dir, '-o', `${out}/`, '--shard', `${i}/2`);
      return { r, files: written(out).filter((f) => !f.includes('rejects')) };
    });
    expect(shards[0]!.files).toEqual(['a.csv', 'c.csv']);
    expect(shards[0]!.r.status).toBe(3);
    expect(shards[1]!.files).toEqual(['b.csv']);
    expect(shards[1]!.r.status).toBe(0);
    const accepted = score('--model', bundledChurn('1'), dir, '-o', join(work, 'out-accept/'), '--accept-rejects');
    expect(accepted.status, accepted.stderr).toBe(0);
    expect(accepted.stderr).toMatch(/1 rejected/);
    for (const [i, s] of shards.entries())
      for (const f of s.files)
        expect(readFileSync(join(work, `out-shard-${i}`, f), 'utf8')).toBe(
          readFileSync(join(work, 'out-all', f), 'utf8'),
        );

    // A shard with no file has nothing to do; an unusable file fails (exit 1) but not the others.
    const empty = score('--model', bundledChurn('1'), join(dir, 'a.csv'), '-o', join(work, 'x.csv'), '--shard', '1/2');
    expect(empty.status).toBe(0);
    expect(empty.stderr).toMatch(/no \.csv or \.parquet file to score in shard 1\/2/);
    // A failed file is what the exit code says, even when a later one has rejected rows.
    writeFileSync(join(dir, 'b.csv'), `${source[0]}\n"broken\n`);
    writeFileSync(join(dir, 'z.csv'), part(0, 10));
    const mixed = score('--model', bundledChurn('1'), dir, '-o', join(work, 'out-mixed/'));
    expect(mixed.status).toBe(1);
    expect(mixed.stderr).toMatch(/MALFORMED_CSV .*b\.csv/);
    expect(mixed.stderr).toMatch(/3 of 4 files, 30 rows, 28 scored, 2 rejected/);
    // The file that failed leaves nothing that could pass for its result.
    expect(readdirSync(join(work, 'out-mixed')).sort()).toEqual([
      'a.csv',
      'a.rejects.csv',
      'c.csv',
      'c.rejects.csv',
      'z.csv',
      'z.rejects.csv',
    ]);
    const twice = score('--model', bundledChurn('1'), input, input, '-o', join(work, 'out-twice/'));
    expect(twice.status).toBe(1);
    expect(twice.stderr).toMatch(/SAME_FILE .*customers\.csv/);
  });

  it('exits 2 with the usage for a wrong invocation', () => {
    for (const args of [
      [input, '-o', 'x.csv'],
      ['--model', bundledChurn('1'), '-o', 'x.csv'],
      ['--model', bundledChurn('1'), input, '-o', 'x.csv', '--batch-rows', '0'],
      ['--model', bundledChurn('1'), input, '-o', 'x.json'],
      ['--model', bundledChurn('1'), input, '-o', 'x.csv', '--bogus'],
      ['--model', bundledChurn('1'), input, '-o', 'x.csv', '--shard', '2/2'],
      ['--model', bundledChurn('1'), input, '-o', 'x.csv', '--shard', 'x'],
      ['--model', bundledChurn('1'), input, input, '-o', join(work, 'two/'), '--rejects', 'r.csv'],
    ]) {
      const r = score(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('ortline score --model DIR INPUT -o OUTPUT');
    }
  });
});
