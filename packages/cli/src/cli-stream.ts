// `ortline stream`: one member of a consumer group that scores a Kafka topic (stream/), until
// SIGTERM or SIGINT: then it stops fetching, answers and commits what it read, leaves the group
// and exits 0. Flags, or the `stream` section of a JSON config file (flags win):
//   ortline stream --brokers HOST:PORT[,...] --in TOPIC --out TOPIC --model NAME
//                  [--models-dir DIR] [--group ID] [--dead-letter TOPIC] [--batch-rows N]
//                  [--status-host HOST] [--status-port N]
//   ortline stream --config stream.json
// Exit codes: 0 stopped by a signal, 1 the stream failed (what was not committed is read again
// on restart), 2 usage or configuration.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { subcommandArgs, usageError } from './cli-args.js';

const DEFAULT_BATCH_ROWS = 1024;
// Prometheus exporters' customary port range; the gateway's own port is 8080.
const DEFAULT_STATUS_PORT = 9464;

export const STREAM_USAGE = [
  'ortline stream: score a Kafka topic, one consumer-group member; answers to another topic',
  '',
  '  ortline stream --brokers HOST:PORT[,...] --in TOPIC --out TOPIC --model NAME [--models-dir DIR]',
  '                 [--group ID] [--dead-letter TOPIC] [--batch-rows N] [--status-host HOST] [--status-port N]',
  '                 [--config FILE]',
  '',
  '  --brokers          bootstrap brokers, comma-separated',
  '  --in               the topic of records: each value one record as /v1/models/NAME/predict takes it, JSON or',
  '                     MessagePack (its content-type header, else a MessagePack map by its first byte); answers',
  '                     come in the same format',
  '  --out              the topic of answers: the HTTP API\'s answer fields plus "partition" and "offset" of the',
  "                     input, keyed by the record's id, on the input's partition number (it needs as many partitions)",
  '  --dead-letter      records that could not be scored, with their error as the HTTP API gives it and the value',
  '                     as sent (default: IN.dead-letter; as many partitions as the input)',
  '  --model            a model of the models directory (its active version), or a version folder such as',
  '                     models/churn/1',
  '  --models-dir       the models directory (default models)',
  '  --group            the consumer group (default ortline-stream-MODEL); run more members to share partitions',
  `  --batch-rows       most records scored in one batch (default ${DEFAULT_BATCH_ROWS})`,
  `  --status-port      /healthz, /readyz (model loaded, group joined) and /metrics (Prometheus) (default ${DEFAULT_STATUS_PORT};`,
  '                     0: any free port, printed at start)',
  '  --status-host      the address the status port listens on (default 0.0.0.0)',
  '  -c, --config       a JSON file whose "stream" object takes the same names: brokers (an array or a string),',
  '                     in, out, deadLetter, model, modelsDir, group, batchRows, statusHost, statusPort; flags',
  '                     override it',
  '',
  'At least once: offsets are committed after the broker acknowledged the answers up to them.',
  'Exit codes: 0 stopped by SIGTERM or SIGINT, 1 the stream failed, 2 usage or configuration.',
].join('\n');

const COMMAND = { name: 'ortline stream', usage: STREAM_USAGE };

interface StreamSettings {
  readonly brokers: string[];
  readonly in: string;
  readonly out: string;
  readonly deadLetter: string;
  readonly model: string;
  readonly modelsDir: string;
  readonly group: string;
  readonly batchRows: number;
  readonly statusHost: string;
  readonly statusPort: number;
}

const KEYS = [
  'brokers',
  'in',
  'out',
  'deadLetter',
  'model',
  'modelsDir',
  'group',
  'batchRows',
  'statusHost',
  'statusPort',
] as const;

/** The `stream` section of a config file, checked: only known names, each of its type. */
function fileSection(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`config ${path}: ${(err as Error).message}`);
  }
  const section = (parsed as { stream?: unknown } | null)?.stream;
  if (section === undefined) return {};
  if (section === null || typeof section !== 'object' || Array.isArray(section))
    throw new Error(`config ${path}: "stream" must be an object`);
  const s = section as Record<string, unknown>;
  for (const k of Object.keys(s))
    if (!(KEYS as readonly string[]).includes(k))
      throw new Error(`config ${path}: stream.${k} is not an option (${KEYS.join(', ')})`);
  return s;
}

function settingsOf(values: Record<string, string | boolean | undefined>): StreamSettings {
  const file = typeof values.config === 'string' ? fileSection(values.config) : {};
  const text = (flag: string, key: string): string | undefined => {
    const v = values[flag] ?? file[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '')
      throw new Error(`${flag === key ? '--' : ''}${flag}: must be a non-empty string`);
    return v.trim();
  };
  const rawBrokers = values.brokers ?? file.brokers;
  const brokers = (
    Array.isArray(rawBrokers) ? rawBrokers : typeof rawBrokers === 'string' ? rawBrokers.split(',') : []
  ).map((b) => String(b).trim());
  if (brokers.length === 0 || brokers.some((b) => !/^[^\s:]+:\d{1,5}$/.test(b)))
    throw new Error('--brokers: give HOST:PORT[,HOST:PORT...]');
  const input = text('in', 'in');
  const out = text('out', 'out');
  const model = text('model', 'model');
  if (!input || !out || !model) throw new Error('--brokers, --in, --out and --model are required');
  const rawRows = values['batch-rows'] ?? file.batchRows ?? DEFAULT_BATCH_ROWS;
  const batchRows = Number(rawRows);
  if (!Number.isInteger(batchRows) || batchRows < 1)
    throw new Error(`--batch-rows: must be a positive integer, got ${JSON.stringify(rawRows)}`);
  const rawPort = values['status-port'] ?? file.statusPort ?? DEFAULT_STATUS_PORT;
  const statusPort = Number(rawPort);
  if (!Number.isInteger(statusPort) || statusPort < 0 || statusPort > 65535)
    throw new Error(`--status-port: must be a port number (0 to 65535), got ${JSON.stringify(rawPort)}`);
  const deadLetter = text('dead-letter', 'deadLetter') ?? `${input}.dead-letter`;
  if (new Set([input, out, deadLetter]).size !== 3)
    throw new Error('--in, --out and --dead-letter must be three different topics');
  return {
    brokers,
    in: input,
    out,
    deadLetter,
    model,
    modelsDir: text('models-dir', 'modelsDir') ?? 'models',
    group: text('group', 'group') ?? `ortline-stream-${model.replace(/[^\w.-]/g, '_')}`,
    batchRows,
    statusHost: text('status-host', 'statusHost') ?? '0.0.0.0',
    statusPort,
  };
}

export async function streamCommand(argv: readonly string[]): Promise<number> {
  const args = subcommandArgs(COMMAND, argv, {
    brokers: { type: 'string' },
    in: { type: 'string' },
    out: { type: 'string' },
    'dead-letter': { type: 'string' },
    model: { type: 'string' },
    'models-dir': { type: 'string' },
    group: { type: 'string' },
    'batch-rows': { type: 'string' },
    'status-host': { type: 'string' },
    'status-port': { type: 'string' },
    config: { type: 'string', short: 'c' },
  });
  if (typeof args === 'number') return args;
  let s: StreamSettings;
  try {
    s = settingsOf(args.values);
  } catch (err) {
    return usageError(COMMAND, (err as Error).message);
  }
  const say = (line: string) => process.stderr.write(`ortline stream: ${line}\n`);
  // Loaded on use: --help and usage errors need no native module.
  const { scanRepository } = await import('@ortline/gateway');
  const { loadBulkModel } = await import('./bulk/model.js');
  const { emptyCounts, StreamConfigError, StreamScorer } = await import('./stream/stream-scorer.js');
  let versionDir: string;
  try {
    versionDir = existsSync(join(s.model, 'model.onnx'))
      ? s.model
      : activeVersion(scanRepository, s.modelsDir, s.model);
  } catch (err) {
    say((err as Error).message);
    return 2;
  }
  const { streamMetrics } = await import('./stream/metrics.js');
  const { startStatusServer } = await import('./stream/status-server.js');
  // The scorer exists only once the model is loaded; the metrics read it through this.
  let scorer: InstanceType<typeof StreamScorer> | undefined;
  let model: Awaited<ReturnType<typeof loadBulkModel>> | undefined;
  const metrics = streamMetrics({
    model: s.model.includes('/') ? basename(dirname(resolve(versionDir))) : s.model,
    version: basename(resolve(versionDir)),
    topic: s.in,
    counts: () => scorer?.counts ?? emptyCounts(),
    ready: () => scorer?.ready ?? false,
    queueRows: () => model?.batcher.stats.queueRows ?? 0,
    inFlight: () => model?.batcher.stats.inFlight ?? 0,
    runs: () => model?.runs() ?? { inline: 0, pool: 0 },
    lag: () => scorer?.lag() ?? Promise.resolve(new Map()),
  });
  let status: Awaited<ReturnType<typeof startStatusServer>>;
  try {
    status = await startStatusServer(s.statusHost, s.statusPort, metrics.registry, () => scorer?.ready ?? false);
  } catch (err) {
    say(`cannot listen on ${s.statusHost}:${s.statusPort}: ${(err as Error).message}`);
    return 1;
  }
  try {
    model = await loadBulkModel(versionDir, { batchRows: s.batchRows, onBatch: metrics.batch });
  } catch (err) {
    say(`cannot load ${versionDir}: ${(err as Error).message}`);
    await status.close();
    return 1;
  }
  const running = new StreamScorer(model, {
    brokers: s.brokers,
    inTopic: s.in,
    outTopic: s.out,
    deadLetterTopic: s.deadLetter,
    groupId: s.group,
    maxBatchRows: s.batchRows,
    onError: (err) => say(`error: ${err.message}`),
    onDelivered: metrics.delivered,
  });
  scorer = running;
  const stop = (signal: string) => {
    say(`${signal}: finishing what was read, then leaving the group`);
    void running.stop().catch(() => {});
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  let code = 0;
  try {
    await running.start();
    say(
      `${versionDir} (version ${model.version}): ${s.in} -> ${s.out}, dead letters to ${s.deadLetter}, ` +
        `group ${s.group}; status on http://${s.statusHost}:${status.port}`,
    );
    await running.closed();
  } catch (err) {
    say(`failed: ${(err as Error).message}`);
    await running.stop().catch(() => {});
    // The topics as configured cannot work: a restart would not mend that.
    code = err instanceof StreamConfigError ? 2 : 1;
  } finally {
    await model.close();
    await status.close();
  }
  const c = running.counts;
  say(
    `stopped: ${c.recordsIn} records in, ${c.answers} answers, ${c.deadLetters} dead letters, ` +
      `${c.duplicatesSkipped} re-deliveries skipped, ${c.unassignedSkipped} of moved partitions skipped, ${c.batches} batches`,
  );
  return code;
}

function activeVersion(
  scan: typeof import('@ortline/gateway').scanRepository,
  modelsDir: string,
  name: string,
): string {
  const found = scan(modelsDir).models.find((m) => m.name === name);
  if (!found) throw new Error(`no model "${name}" in ${modelsDir} (and ${name} is not a version folder)`);
  const v = found.versions.find((x) => x.version === found.routing.active);
  if (!v) throw new Error(`model "${name}" has no active version in ${modelsDir}`);
  return v.dir;
}
