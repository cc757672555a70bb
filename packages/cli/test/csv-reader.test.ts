// The incremental CSV reader: the same records with their lines however the text is cut into
// chunks, RFC 4180 quoting, and malformed quoting named by line.
import { describe, expect, it } from 'vitest';
import { CsvError, CsvReader, type CsvRecord } from '../src/bulk/csv-reader.js';

function readAll(chunks: readonly string[]): CsvRecord[] {
  const r = new CsvReader();
  const out: CsvRecord[] = [];
  for (const c of chunks) out.push(...r.push(c));
  out.push(...r.end());
  return out;
}

/** Every way of cutting the text in two, and one character at a time. */
function cuts(text: string): string[][] {
  const ways: string[][] = [[text], [...text]];
  for (let k = 0; k <= text.length; k++) ways.push([text.slice(0, k), text.slice(k)]);
  return ways;
}

const rows = (recs: CsvRecord[]) => recs.map((r) => [r.line, ...r.fields]);

describe('CsvReader', () => {
  it('reads RFC 4180 quoting, CRLF and LF, a byte-order mark and blank lines, whatever the chunks', () => {
    const text =
      '\ufeffid,note,n\r\n' +
      'a,"one, two",1\r\n' +
      '\r\n' +
      'b,"say ""hi""",2\n' +
      'c,"two\nlines",3\n' +
      'd,,\n' +
      '"e",x,"4"';
    const want = [
      [1, 'id', 'note', 'n'],
      [2, 'a', 'one, two', '1'],
      [4, 'b', 'say "hi"', '2'],
      [5, 'c', 'two\nlines', '3'],
      [7, 'd', '', ''],
      [8, 'e', 'x', '4'],
    ];
    for (const chunks of cuts(text)) expect(rows(readAll(chunks)), JSON.stringify(chunks)).toEqual(want);
  });

  it('keeps a CR that is not a line end inside the field, and drops the one ending the input', () => {
    for (const chunks of cuts('a\rb,"c\r"\r\nd,e\r')) {
      expect(rows(readAll(chunks))).toEqual([
        [1, 'a\rb', 'c\r'],
        [2, 'd', 'e'],
      ]);
    }
    expect(rows(readAll(['x,"y"\r']))).toEqual([[1, 'x', 'y']]);
  });

  it('gives a trailing comma its empty field, and nothing for an empty input', () => {
    expect(rows(readAll(['a,b,\n', 'c,,']))).toEqual([
      [1, 'a', 'b', ''],
      [2, 'c', '', ''],
    ]);
    expect(readAll([])).toEqual([]);
    expect(readAll(['', '\n\n'])).toEqual([]);
  });

  it('names the line of malformed quoting, counting line breaks inside quoted fields', () => {
    const cases: [string, number, RegExp][] = [
      ['h\n"a\nb",x\n"open,y\n', 4, /never closed/],
      ['h\nx,ab"c\n', 2, /quote inside an unquoted field/],
      ['h\n"multi\nline"tail,1\n', 3, /after a quoted field/],
    ];
    for (const [text, line, message] of cases) {
      for (const chunks of cuts(text)) {
        let err: unknown;
        try {
          readAll(chunks);
        } catch (e) {
          err = e;
        }
        expect(err, JSON.stringify(chunks)).toBeInstanceOf(CsvError);
        expect((err as CsvError).line).toBe(line);
        expect((err as CsvError).message).toMatch(message);
      }
    }
  });

  it('hands out each record as soon as its line end arrives', () => {
    const r = new CsvReader();
    expect(r.push('a,b\nc,')).toEqual([{ fields: ['a', 'b'], line: 1 }]);
    expect(r.push('"d')).toEqual([]);
    expect(r.push('"\ne')).toEqual([{ fields: ['c', 'd'], line: 2 }]);
    expect(r.end()).toEqual([{ fields: ['e'], line: 3 }]);
  });
});
