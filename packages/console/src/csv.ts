// CSV as RFC 4180 writes it: comma-separated, fields in double quotes when they hold a comma, a
// quote or a line break, quotes doubled inside them, CRLF or LF line ends. A malformed file is
// an error naming its line, never a silently shifted column.

export class CsvError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** The file line each row starts on (1-based; the header is line 1). */
  readonly lines: readonly number[];
}

export function parseCsv(text: string): CsvTable {
  const records: string[][] = [];
  const starts: number[] = [];
  let field = '';
  let record: string[] = [];
  let line = 1;
  let start = 1;
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark is not part of the first name
  const endRecord = () => {
    record.push(field);
    field = '';
    // A blank line (a lone empty field) separates nothing: skip it.
    if (!(record.length === 1 && record[0] === '')) {
      records.push(record);
      starts.push(start);
    }
    record = [];
  };
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"') {
      if (field !== '') throw new CsvError(line, 'a quote inside an unquoted field');
      quoted = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else field += c;
  }
  if (quoted) throw new CsvError(start, 'a quoted field is never closed');
  if (field !== '' || record.length > 0) endRecord();
  const [header, ...rows] = records;
  if (!header) throw new CsvError(1, 'the file is empty');
  rows.forEach((r, k) => {
    if (r.length !== header.length)
      throw new CsvError(starts[k + 1]!, `${r.length} fields where the header has ${header.length}`);
  });
  return { header, rows, lines: starts.slice(1) };
}

function quote(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function toCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return `${[header, ...rows].map((r) => r.map(quote).join(',')).join('\r\n')}\r\n`;
}
