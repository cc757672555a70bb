// `ortline serve | config | models | pull | drift-report | score | help`. Flags come from the
// option table (config/options.ts); `models` is a client of a running gateway's admin API
// (cli-models.ts), `pull` of an MLflow Model Registry (cli-pull.ts; loaded on use: it needs the
// native scorer), `drift-report` reads traffic logs (cli-drift-report.ts), `score` scores a file
// (cli-score.ts, also loaded on use).
import { type ParseArgsConfig, parseArgs as parseArgsWithNode } from 'node:util';
import { modelsCommand } from './cli-models.js';
import { renderConfigMarkdown } from './config/doc.js';
import { ConfigError, resolveConfig } from './config/load.js';
import { flagOf, type GatewayConfig, OPTIONS, type OptionSpec } from './config/options.js';
import { createLogger } from './log.js';
import type { Gateway } from './server.js';
import { GATEWAY_VERSION } from './version.js';

const SHORT: Readonly<Record<string, string>> = {
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
  const short = Object.entries(SHORT)
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

function usage(): string {
  const lines = [
    `ortline ${GATEWAY_VERSION}: real-time ONNX scoring gateway`,
    '',
    'Usage:',
    '  ortline serve [flags]          start the gateway (defaults: models/ on port 8080)',
    '  ortline config [flags]         print the resolved configuration as JSON',
    '  ortline config --markdown      print CONFIG.md (every option, its default, its meaning)',
    '  ortline models ...             load, unload, route, roll back versions on a running gateway',
    '                                 (ortline models --help)',
    '  ortline pull ...               a version from an MLflow Model Registry into a model repository',
    '                                 (ortline pull --help)',
    '  ortline drift-report ...       drift of a version over traffic logs, as an HTML page',
    '                                 (ortline drift-report --help)',
    '  ortline score ...              every row of a CSV file scored by one version, to a CSV file',
    '                                 (ortline score --help)',
    '',
    'Flags (every option; see CONFIG.md):',
    '  -c, --config <file>            JSON config file (also ORTLINE_CONFIG)',
  ];
  for (const o of OPTIONS) {
    const short = Object.entries(SHORT).find(([, long]) => long === flagOf(o))?.[0];
    const long = o.type === 'boolean' ? `--[no-]${flagOf(o).slice(2)}` : `${flagOf(o)} <value>`;
    const flag = `${short ? `${short}, ` : '    '}${long}`;
    lines.push(`  ${flag.padEnd(40)} ${o.env ? `[${o.env}] ` : ''}default ${JSON.stringify(o.default)}`);
  }
  return lines.join('\n');
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

/** Runs a command; resolves with the exit code (serve resolves only once the server stopped). */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv[0] === 'models') return modelsCommand(argv.slice(1), env);
  if (argv[0] === 'pull') return (await import('./cli-pull.js')).pullCommand(argv.slice(1), env);
  if (argv[0] === 'drift-report') return (await import('./cli-drift-report.js')).driftReportCommand(argv.slice(1));
  if (argv[0] === 'score') return (await import('./cli-score.js')).scoreCommand(argv.slice(1));
  let args: ParsedArgs;
  let config: GatewayConfig;
  try {
    args = parseArgs(argv);
    if (args.command === 'help') {
      process.stdout.write(`${usage()}\n`);
      return 0;
    }
    if (args.command === 'version') {
      process.stdout.write(`${GATEWAY_VERSION}\n`);
      return 0;
    }
    if (args.command === 'config' && args.markdown) {
      process.stdout.write(renderConfigMarkdown());
      return 0;
    }
    config = loadCliConfig(args, env);
  } catch (err) {
    process.stderr.write(`ortline: ${(err as Error).message}\n`);
    return 2;
  }
  if (args.command === 'config') {
    process.stdout.write(`${JSON.stringify(redacted(config), null, 2)}\n`);
    return 0;
  }
  if (args.command !== 'serve') {
    process.stderr.write(`ortline: unknown command "${args.command}"\n\n${usage()}\n`);
    return 2;
  }
  return serve(config);
}

async function serve(config: GatewayConfig): Promise<number> {
  const log = createLogger(config);
  const flushed = (code: number) => new Promise<number>((resolve) => log.flush(() => resolve(code)));
  let gateway: Gateway;
  try {
    // Loaded here, not at the top: `ortline config` and `--help` need no native modules.
    const { startGateway } = await import('./server.js');
    gateway = await startGateway({ config, logger: log });
  } catch (err) {
    log.fatal({ err }, 'start-up failed');
    return flushed(1);
  }
  const g = gateway;
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      g.close().then(
        (drained) => flushed(drained ? 0 : 1).then(resolve),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          flushed(1).then(resolve);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
