// `ortline stream` as users run it, a child process against a real Kafka broker: usage errors,
// SIGTERM (finishes what it read, commits, leaves: a restart answers the rest, nothing twice),
// SIGKILL mid-stream (a restart answers every record at least once; the duplicates are counted).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBroker } from '../../../bench/src/kafka-broker.mjs';
import { ensureBuilt, freePort, ortlineBin, parity, repoRoot } from '../../gateway/test/helpers.js';
import { collect, type Produced, produce, until } from './kafka-io.js';

const run = (...args: string[]) => spawnSync(process.execPath, [ortlineBin, 'stream', ...args], { encoding: 'utf8' });

interface StreamChild {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

function startStream(args: string[]): StreamChild {
  const proc = spawn(process.execPath, [ortlineBin, 'stream', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, exited, stderr: () => err };
}

function customers(count: number, partitions: number, from = 0): Produced[] {
  const rows = parity().rows;
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      partition: i % partitions,
      key: `c${i}`,
      value: JSON.stringify({ customerID: `c${i}`, ...rows[i % rows.length]!.features }),
    };
  });
}

describe('ortline stream: usage', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it('names what is missing or wrong, with exit code 2', () => {
    const missing = run('--brokers', '127.0.0.1:9', '--in', 'a');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--brokers, --in, --out and --model are required');
    const brokers = run('--brokers', 'nohost', '--in', 'a', '--out', 'b', '--model', 'churn');
    expect(brokers.status).toBe(2);
    expect(brokers.stderr).toContain('--brokers: give HOST:PORT');
    const rows = run('--brokers', '127.0.0.1:9', '--in', 'a', '--out', 'b', '--model', 'churn', '--batch-rows', '0');
    expect(rows.status).toBe(2);
    expect(rows.stderr).toContain('--batch-rows: must be a positive integer');
    const same = run('--brokers', '127.0.0.1:9', '--in', 'a', '--out', 'a', '--model', 'churn');
    expect(same.status).toBe(2);
    expect(same.stderr).toContain('three different topics');
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--dead-letter');
  });

  it('checks the config file section: unknown names and wrong types are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ortline-stream-config-'));
    try {
      const path = join(dir, 'stream.json');
      writeFileSync(
        path,
        JSON.stringify({ stream: { brokers: ['127.0.0.1:9'], in: 'a', out: 'b', model: 'churn', topic: 'x' } }),
      );
      const unknown = run('--config', path);
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain('stream.topic is not an option');
      writeFileSync(path, JSON.stringify({ stream: { brokers: ['127.0.0.1:9'], in: 'a', out: 'b', model: 7 } }));
      const typed = run('--config', path);
      expect(typed.status).toBe(2);
      expect(typed.stderr).toContain('model: must be a non-empty string');
      const model = run('--config', path, '--model', 'nosuchmodel');
      expect(model.status).toBe(2);
      expect(model.stderr).toContain('no model "nosuchmodel"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ortline stream: stopping and crashing, against a real broker', () => {
  let broker: KafkaBroker;
  const children: StreamChild[] = [];
  beforeAll(async () => {
    ensureBuilt();
    broker = await KafkaBroker.start();
  }, 300_000);
  afterAll(async () => {
    for (const c of children) c.proc.kill('SIGKILL');
    await broker?.stop();
  });

  const streamArgs = (topic: string, statusPort: number) => [
    '--status-host',
    '127.0.0.1',
    '--status-port',
    String(statusPort),
    '--brokers',
    broker.bootstrap,
    '--in',
    topic,
    '--out',
    `${topic}.scores`,
    '--model',
    'churn',
    '--group',
    `${topic}-scorers`,
    '--batch-rows',
    '64',
  ];

  it('exits 2 naming the topic when a topic is missing or has too few partitions', async () => {
    await broker.createTopics(['wide'], 4);
    await broker.createTopics(['narrow', 'wide.dead-letter'], 2);
    const missing = startStream([...streamArgs('absent', await freePort())]);
    children.push(missing);
    expect(await missing.exited, missing.stderr()).toBe(2);
    expect(missing.stderr()).toContain('topic "absent" does not exist');
    const narrow = startStream([...streamArgs('wide', await freePort()), '--out', 'narrow']);
    children.push(narrow);
    expect(await narrow.exited).toBe(2);
    expect(narrow.stderr()).toContain('topic "narrow" has 2 partitions, fewer than the 4 of input topic "wide"');
  }, 60_000);

  it('on SIGTERM answers and commits what it read and exits 0; a restart answers the rest, none twice', async () => {
    await broker.createTopics(['term', 'term.scores', 'term.dead-letter'], 4);
    const records = customers(6000, 4);
    await produce(broker, 'term', records);
    const out = await collect(broker, 'term.scores');
    try {
      const port = await freePort();
      const status = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
      const first = startStream(streamArgs('term', port));
      children.push(first);
      await until(() => out.got.length >= 500, 'the first answers');
      expect((await status('/healthz')).status).toBe(200);
      expect(await (await status('/readyz')).json()).toEqual({ ready: true });
      expect((await status('/nothing')).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
      const scraped = await (await status('/metrics')).text();
      const value = (series: string) => {
        const line = scraped.split('\n').find((l) => l.startsWith(`${series} `));
        return line === undefined ? undefined : Number(line.slice(series.length + 1));
      };
      const answered = value('ortline_stream_records_out_total{topic="term",outcome="answer"}')!;
      expect(answered).toBeGreaterThanOrEqual(500);
      expect(answered).toBeLessThanOrEqual(records.length);
      expect(value('ortline_stream_records_out_total{topic="term",outcome="dead_letter"}')).toBe(0);
      expect(value('ortline_stream_end_to_end_seconds_count{topic="term"}')).toBeGreaterThanOrEqual(answered);
      expect(value('ortline_rows_scored_total{model="churn",version="1"}')).toBeGreaterThanOrEqual(answered);
      expect(value('ortline_stream_ready')).toBe(1);
      expect(scraped).toMatch(/^ortline_stream_lag_records\{topic="term",partition="[0-3]"\} \d+$/m);
      first.proc.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.stderr()).toMatch(/SIGTERM: finishing what was read/);
      const stopped = out.got.length;
      expect(stopped).toBeLessThan(records.length); // it stopped mid-stream

      const second = startStream(streamArgs('term', await freePort()));
      children.push(second);
      await until(() => out.got.length >= records.length, 'every answer', 90_000);
      await new Promise((r) => setTimeout(r, 1000)); // any duplicate would come by now
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      const keys = out.got.map((a) => a.key);
      expect(keys).toHaveLength(records.length);
      expect(new Set(keys).size).toBe(records.length);
      expect(second.stderr()).toMatch(/0 re-deliveries skipped/);
    } finally {
      await out.stop();
    }
  }, 180_000);

  it('after SIGKILL mid-stream, a restart answers every record at least once', async () => {
    await broker.createTopics(['kill', 'kill.scores', 'kill.dead-letter'], 4);
    const records = customers(20_000, 4);
    await produce(broker, 'kill', records);
    const out = await collect(broker, 'kill.scores');
    try {
      const first = startStream(streamArgs('kill', await freePort()));
      children.push(first);
      await until(() => out.got.length >= 2000, 'the first answers');
      first.proc.kill('SIGKILL');
      await first.exited;
      const beforeKill = out.got.length;
      expect(beforeKill).toBeLessThan(records.length);

      const second = startStream(streamArgs('kill', await freePort()));
      children.push(second);
      const keys = () => new Set(out.got.map((a) => a.key));
      await until(() => keys().size >= records.length, 'an answer for every record', 120_000).catch((err) => {
        throw new Error(`${err.message}: ${keys().size} of ${records.length}; after restart: ${second.stderr()}`);
      });
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect([...keys()].sort()).toEqual(records.map((r) => r.key).sort());
      // Answered twice: those produced after the last commit before the kill. Bounded by what was
      // in flight (two batches per partition fetch), and reported.
      const duplicates = out.got.length - records.length;
      console.log(`stream SIGKILL: ${beforeKill} answers before the kill, ${duplicates} answered twice after restart`);
      expect(duplicates).toBeGreaterThanOrEqual(0);
      expect(duplicates).toBeLessThan(beforeKill);
      // In order per partition within each run: the answers of one input partition carry rising
      // offsets, except where the restart went back to the last commit.
      for (const p of [0, 1, 2, 3]) {
        const offsets = out.got.filter((a) => a.partition === p).map((a) => a.value.offset as number);
        const drops = offsets.filter((o, i) => i > 0 && o <= offsets[i - 1]!).length;
        expect(drops).toBeLessThanOrEqual(1);
      }
    } finally {
      await out.stop();
    }
  }, 240_000);
});
