// The gateway's options as command-line flags: every option of the table (options.ts) is a flag
// (`--x`, and `--no-x` for a boolean), parsed with Node's own parser; and the configuration those
// flags, a config file and the environment resolve to.
import { type ParseArgsConfig, parseArgs as parseArgsWithNode } from 'node:util';
import { ConfigError, resolveConfig } from './load.js';
import { flagOf, type GatewayConfig, OPTIONS, type OptionSpec } from './options.js';

/** One-letter flags and the long flag each stands for. */
export const SHORT_FLAGS: Readonly<Record<string, string>> = {
  '-p': '--port',
  '-H': '--host',
  '-m': '--models-dir',
  '-c': '--config',
};

export interface ParsedArgs {
  readonly command: string;
  readonly flags: Record<string, string>;
  readonly configFile: string | undefined;
  readonly markdown: boolean;
}

// node:util's parser, told every flag the option table has: a boolean option `--x` also gets its
// negation `--no-x` (Node 20's parseArgs has no allowNegative). Non-strict mode, so that the
// errors below can name the flag in the CLI's own words.
const OWN: ParseArgsConfig['options'] = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  markdown: { type: 'boolean' },
  config: { type: 'string', short: 'c' },
};
const PARSER_OPTIONS: NonNullable<ParseArgsConfig['options']> = { ...OWN };
const BY_NAME = new Map<string, { spec: OptionSpec; negated: boolean }>();
for (const o of OPTIONS) {
  const name = flagOf(o).slice(2);
  const short = Object.entries(SHORT_FLAGS)
    .find(([, long]) => long === flagOf(o))?.[0]
    ?.slice(1);
  PARSER_OPTIONS[name] = { type: o.type === 'boolean' ? 'boolean' : 'string', ...(short ? { short } : {}) };
  BY_NAME.set(name, { spec: o, negated: false });
  if (o.type === 'boolean') {
    PARSER_OPTIONS[`no-${name}`] = { type: 'boolean' };
    BY_NAME.set(`no-${name}`, { spec: o, negated: true });
  }
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { tokens } = parseArgsWithNode({
    args: [...argv],
    options: PARSER_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const flags: Record<string, string> = {};
  let command = '';
  let configFile: string | undefined;
  let markdown = false;
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (command !== '') throw new ConfigError(`unexpected argument "${t.value}"`);
      command = t.value;
      continue;
    }
    const { name, rawName, value } = t;
    if (name === 'help' || name === 'version') command = name;
    else if (name === 'markdown') markdown = true;
    else if (name === 'config') {
      if (!value) throw new ConfigError('--config needs a file');
      configFile = value;
    } else {
      const known = BY_NAME.get(name);
      if (!known) throw new ConfigError(`unknown flag ${rawName} (see ortline --help)`);
      if (known.spec.type === 'boolean') {
        // `--x`, `--no-x`, or `--x=false`: a separate word after a boolean flag is not its value.
        if (known.negated && value !== undefined) throw new ConfigError(`${rawName} takes no value`);
        flags[known.spec.key] = known.negated ? 'false' : (value ?? 'true');
      } else {
        if (value === undefined) throw new ConfigError(`${rawName} needs a value`);
        flags[known.spec.key] = value;
      }
    }
  }
  return { command: command || 'help', flags, configFile, markdown };
}

/** The configuration with its secrets masked (admin token, passwords in the Redis URL and options), for printing. */
export function redacted(config: GatewayConfig): unknown {
  const mask = (v: unknown) => (v === null || v === undefined ? v : '***');
  const url = config.redisUrl === null ? null : config.redisUrl.replace(/^(\w+:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
  const ro = config.cache.l2.redisOptions as Record<string, unknown>;
  const redisOptions = 'password' in ro ? { ...ro, password: mask(ro.password) } : ro;
  return {
    ...config,
    redisUrl: url,
    cache: { ...config.cache, l2: { ...config.cache.l2, redisOptions } },
    admin: { ...config.admin, token: mask(config.admin.token) },
  };
}

export function loadCliConfig(args: ParsedArgs, env: NodeJS.ProcessEnv): GatewayConfig {
  return resolveConfig({ file: args.configFile ?? env.ORTLINE_CONFIG, env, flags: args.flags });
}
