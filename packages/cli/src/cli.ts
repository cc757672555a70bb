// `ortline serve | config | models | pull | drift-report | score | stream | help`. Flags come from the
// gateway's option table (@ortline/gateway/config); `models` is a client of a running gateway's admin API
// (cli-models.ts), `pull` of an MLflow Model Registry (cli-pull.ts; loaded on use: it needs the
// native scorer), `drift-report` reads traffic logs (cli-drift-report.ts), `score` scores a file
// (cli-score.ts, also loaded on use), `stream` scores a Kafka topic (cli-stream.ts, loaded on use).

import type { Gateway } from '@ortline/gateway';
import {
  createLogger,
  flagOf,
  GATEWAY_VERSION,
  type GatewayConfig,
  loadCliConfig,
  OPTIONS,
  type ParsedArgs,
  parseArgs,
  redacted,
  renderConfigMarkdown,
  SHORT_FLAGS,
} from '@ortline/gateway/config';
import { modelsCommand } from './cli-models.js';

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
    '  ortline score ...              every row of CSV or Parquet files scored by one version, to files',
    '                                 (ortline score --help)',
    '  ortline stream ...             score a Kafka topic as a consumer-group member, answers to a topic',
    '                                 (ortline stream --help)',
    '',
    'Flags (every option; see CONFIG.md):',
    '  -c, --config <file>            JSON config file (also ORTLINE_CONFIG)',
  ];
  for (const o of OPTIONS) {
    const short = Object.entries(SHORT_FLAGS).find(([, long]) => long === flagOf(o))?.[0];
    const long = o.type === 'boolean' ? `--[no-]${flagOf(o).slice(2)}` : `${flagOf(o)} <value>`;
    const flag = `${short ? `${short}, ` : '    '}${long}`;
    lines.push(`  ${flag.padEnd(40)} ${o.env ? `[${o.env}] ` : ''}default ${JSON.stringify(o.default)}`);
  }
  return lines.join('\n');
}

/** Runs a command; resolves with the exit code (serve resolves only once the server stopped). */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv[0] === 'models') return modelsCommand(argv.slice(1), env);
  if (argv[0] === 'pull') return (await import('./cli-pull.js')).pullCommand(argv.slice(1), env);
  if (argv[0] === 'drift-report') return (await import('./cli-drift-report.js')).driftReportCommand(argv.slice(1));
  if (argv[0] === 'score') return (await import('./cli-score.js')).scoreCommand(argv.slice(1));
  if (argv[0] === 'stream') return (await import('./cli-stream.js')).streamCommand(argv.slice(1));
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
    const { startGateway } = await import('@ortline/gateway');
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
