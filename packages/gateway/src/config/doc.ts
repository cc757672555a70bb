// CONFIG.md, rendered from the option table. `ortline config --markdown > CONFIG.md` regenerates
// it, and a test fails when the committed file differs from what the table says.
import { flagOf, OPTIONS, type OptionSpec } from './options.js';

function renderDefault(o: OptionSpec): string {
  if (o.default === null) return '`null`';
  if (Array.isArray(o.default)) return o.default.length === 0 ? 'none' : `\`${o.default.join(',')}\``;
  if (typeof o.default === 'object') return `\`${JSON.stringify(o.default)}\``;
  if (typeof o.default === 'number' && o.default >= 1024 && o.default % 1024 === 0 && o.key.endsWith('Bytes')) {
    const mib = o.default / (1024 * 1024);
    return Number.isInteger(mib) ? `\`${o.default}\` (${mib} MiB)` : `\`${o.default}\` (${o.default / 1024} KiB)`;
  }
  return `\`${String(o.default)}\``;
}

function renderType(o: OptionSpec): string {
  switch (o.type) {
    case 'enum':
      return o.values!.map((v) => `\`${v}\``).join(' \\| ');
    case 'string-list':
      return 'list of strings (comma-separated as a flag)';
    case 'nullable-string':
      return 'string or null';
    case 'object':
      return 'JSON object';
    case 'port':
      return 'integer 0–65535';
    case 'int':
    case 'number': {
      const base = o.type === 'int' ? 'integer' : 'number';
      return o.min !== undefined ? `${base} ≥ ${o.min}` : base;
    }
    default:
      return o.type;
  }
}

export function renderConfigMarkdown(): string {
  const lines = [
    '# Configuring the ortline gateway',
    '',
    '<!-- Generated from packages/gateway/src/config/options.ts by `ortline config --markdown`; do not edit by hand. -->',
    '',
    'Every option has a default, so `ortline serve` needs no configuration. Each value is taken from',
    'the first of these that sets it:',
    '',
    '1. a command-line flag (`ortline serve --port 9000`),',
    '2. an environment variable, for the options that have one (`PORT=9000`),',
    '3. a JSON config file given by `--config <file>` or `ORTLINE_CONFIG` (nested like the keys',
    '   below: `{"port": 9000, "batcher": {"maxBatchRows": 512}}`),',
    '4. the default.',
    '',
    'Values are validated once at start-up; an unknown key, a wrong type or an out-of-range value',
    'stops the gateway with a message naming the option. The resolved configuration is then frozen',
    '(`ortline config` prints it).',
    '',
    '| Option (config file key) | Flag | Env | Type | Default | Meaning |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const o of OPTIONS) {
    lines.push(
      `| \`${o.key}\` | \`${flagOf(o)}\` | ${o.env ? `\`${o.env}\`` : ''} | ${renderType(o)} | ${renderDefault(o)} | ${o.doc.replace(/\|/g, '\\|')} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
