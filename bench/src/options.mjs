// The benchmark suite's command line: parsed, checked and turned into settings. Prints --help
// (the comment at the top of run.mjs) and exits on bad options.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export function benchOptions(argv) {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      rounds: { type: 'string' },
      parts: { type: 'string', default: 'inprocess,http,ws' },
      connections: { type: 'string', default: '64,256,2100' },
      systems: { type: 'string' },
      'load-generator': { type: 'string', default: 'auto' },
      timeout: { type: 'string', default: '5' },
      'inprocess-time': { type: 'string', default: '1000' },
      'ws-connections': { type: 'string', default: '4' },
      'ws-window': { type: 'string', default: '512' },
      'hot-share': { type: 'string', default: '0.8' },
      'hot-size': { type: 'string', default: '100' },
      warmup: { type: 'string' },
      out: { type: 'string' },
      'reload-cycles': { type: 'string', default: '1000' },
      minutes: { type: 'string', default: '30' },
      'no-setup': { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (args.help) {
    const lines = readFileSync(new URL('./run.mjs', import.meta.url), 'utf8')
      .split('\n')
      .slice(1);
    console.log(
      lines
        .slice(
          0,
          lines.findIndex((l) => !l.startsWith('//')),
        )
        .map((l) => l.slice(3))
        .join('\n'),
    );
    process.exit(0);
  }

  const smoke = args.smoke;
  const duration = Number(args.duration ?? (smoke ? 1 : 8));
  const rounds = Number(args.rounds ?? (smoke ? 1 : 3));
  const warmup = Number(args.warmup ?? (smoke ? 0 : 3));
  const parts = new Set(args.parts.split(',').map((s) => s.trim()));
  const levels = args.connections.split(',').map(Number);
  const timeout = Number(args.timeout);
  const hotShare = Number(args['hot-share']);
  const hotSize = Number(args['hot-size']);
  const wsOpts = { duration, connections: Number(args['ws-connections']), window: Number(args['ws-window']) };
  const bad = [...parts].filter(
    (p) => !['inprocess', 'latency', 'http', 'ws', 'reload', 'overload', 'soak', 'bulk'].includes(p),
  );
  if (
    bad.length ||
    !(duration > 0) ||
    !(rounds > 0) ||
    levels.some((c) => !(c > 0)) ||
    !(hotShare >= 0 && hotShare <= 1) ||
    !(hotSize >= 1)
  ) {
    console.error(`bench: bad options${bad.length ? ` (unknown part ${bad.join(', ')})` : ''}; see --help`);
    process.exit(2);
  }
  return {
    args,
    smoke,
    duration,
    rounds,
    warmup,
    parts,
    levels,
    timeout,
    hotShare,
    hotSize,
    wsOpts,
    wanted: args.systems ? new Set(args.systems.split(',').map((s) => s.trim())) : undefined,
  };
}
