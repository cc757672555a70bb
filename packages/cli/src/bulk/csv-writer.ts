// CSV lines as RFC 4180 quotes them: a field in double quotes only when it holds a comma, a quote
// or a line break, its quotes doubled. Lines end with LF, as most data tools write them.

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(fields: readonly string[]): string {
  let s = '';
  for (let i = 0; i < fields.length; i++) s += (i === 0 ? '' : ',') + csvField(fields[i]!);
  return `${s}\n`;
}
