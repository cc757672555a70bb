// CSV as RFC 4180 writes it, read incrementally: text goes in as it arrives (any chunking), whole
// records come out with the line each starts on. Comma-separated; a field in double quotes may
// hold commas, quotes (doubled) and line breaks; CRLF or LF line ends; a byte-order mark before
// the header is dropped; blank lines separate nothing. Malformed quoting is an error naming its
// line: past it, no column could be trusted to be the one its header names.

export class CsvError extends Error {
  override readonly name = 'CsvError';
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

export interface CsvRecord {
  readonly fields: string[];
  /** The line the record starts on, 1-based (the header is line 1). */
  readonly line: number;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

export class CsvReader {
  /** Text not yet consumed: the start of a record whose end has not arrived. */
  private pending = '';
  private line: number;
  private started: boolean;

  /**
   * From the file's start, or (`from`) from a line start further in: its line number, and no
   * byte-order mark to drop there.
   */
  constructor(from?: { readonly line: number }) {
    this.line = from?.line ?? 1;
    this.started = from !== undefined;
  }

  /** Takes the next piece of text; returns the records it completed. */
  push(text: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    let s = this.pending + text;
    if (!this.started && s.length > 0) {
      this.started = true;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    this.pending = s.slice(this.parse(s, false, out));
    return out;
  }

  /** The input ended: the last record (if it had no line end), or an error if a quote is open. */
  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    this.parse(this.pending, true, out);
    this.pending = '';
    return out;
  }

  /**
   * Parses whole records from s into out; returns where the first incomplete one starts. At the
   * input's end (`final`), what is left is a record too.
   */
  private parse(s: string, final: boolean, out: CsvRecord[]): number {
    const n = s.length;
    let at = 0;
    while (at < n) {
      const start = this.line;
      let line = start;
      const fields: string[] = [];
      let i = at;
      let complete = false;
      for (;;) {
        if (i < n && s.charCodeAt(i) === QUOTE) {
          // Quoted: up to the quote that is not doubled.
          let value = '';
          let from = i + 1;
          for (;;) {
            const q = s.indexOf('"', from);
            if (q < 0) {
              if (!final) return at;
              throw new CsvError(start, 'a quoted field is never closed');
            }
            if (q + 1 < n && s.charCodeAt(q + 1) === QUOTE) {
              value += s.slice(from, q + 1);
              from = q + 2;
              continue;
            }
            if (q + 1 >= n && !final) return at; // the next chunk may start with a second quote
            value += s.slice(from, q);
            line += countLines(s, i, q);
            i = q + 1;
            break;
          }
          fields.push(value);
          const c = i < n ? s.charCodeAt(i) : -1;
          if (c === COMMA) {
            i++;
            continue;
          }
          if (c === LF || (c === CR && i + 1 < n && s.charCodeAt(i + 1) === LF)) {
            i += c === CR ? 2 : 1;
            complete = true;
            break;
          }
          if (c === CR && i + 1 >= n) {
            // A CR as the input's last character: a CRLF cut in two, or the last line's end.
            if (!final) return at;
            i++;
            complete = true;
            break;
          }
          if (c === -1) {
            complete = true;
            break;
          }
          throw new CsvError(
            line,
            'text after a quoted field’s closing quote (a quote inside a field must be doubled)',
          );
        }
        // Unquoted: up to the next comma or line end.
        let j = i;
        while (j < n) {
          const c = s.charCodeAt(j);
          if (c === COMMA || c === LF) break;
          if (c === QUOTE) throw new CsvError(line, 'a quote inside an unquoted field (quote the field and double it)');
          j++;
        }
        if (j >= n && !final) return at;
        const endsLine = j < n && s.charCodeAt(j) === LF;
        // A CR right before the LF (or ending the input) belongs to the line end, not the field.
        const to = (endsLine || j >= n) && j > i && s.charCodeAt(j - 1) === CR ? j - 1 : j;
        fields.push(s.slice(i, to));
        if (j >= n) {
          i = j;
          complete = true;
          break;
        }
        i = j + 1;
        if (endsLine) {
          complete = true;
          break;
        }
      }
      if (!complete) return at;
      const hadEnd = i > 0 && s.charCodeAt(i - 1) === LF;
      this.line = line + (hadEnd ? 1 : 0);
      at = i;
      // A blank line (one empty field) separates nothing.
      if (!(fields.length === 1 && fields[0] === '')) out.push({ fields, line: start });
    }
    return at;
  }
}

function countLines(s: string, from: number, to: number): number {
  let k = 0;
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) k++;
  return k;
}
