#!/usr/bin/env node
// Stream scoring: `ortline stream` (the real command, one group member) against a real Kafka broker
// started here, fed at fixed rates by an open-loop producer (a tick every 10 ms sends that tick's
// share; it never waits for answers). Per rate: the answers' rate over the window, and end-to-end
// latency per record, from the time it was handed to the producer to the time its answer was read
// back from the output topic (a record's id keys its answer). The first rate is the one the
// replaced system claims (10,000 records/s, p99 under 50 ms); the rates after it rise until the
// member no longer keeps up: answers below 95% of the offered rate, or p99 past one second.
// A warm-up at the first rate comes before them (the broker's JVM compiles its hot code).
//
//   node bench/src/stream.mjs [--rates 10000,20000,40000,80000] [--seconds 15] [--out DIR] [--smoke]
//
// The broker, the producer, the reading consumer and the member share this machine's cores: the
// figures are for the whole loop on one machine, not for the member alone.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Consumer, Producer } from '@platformatic/kafka';
import { churnParity, freePort, machineInfo, repoRoot, writeRun } from './common.mjs';
import { KafkaBroker } from './kafka-broker.mjs';

const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '10000,20000,40000,80000' },
    seconds: { type: 'string', default: '15' },
    out: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
const rates = args.smoke ? [1000] : args.rates.split(',').map(Number);
const seconds = args.smoke ? 3 : Number(args.seconds);
if (rates.some((r) => !(Number.isInteger(r) && r > 0)) || !(seconds > 0)) {
  console.error('usage: stream.mjs [--rates N,N,...] [--seconds S>0] [--out DIR] [--smoke]');
  process.exit(2);
}
const PARTITIONS = 4;
const TICK_MS = 10;
const MAX_SEND = 1000;
const WARMUP_SECONDS = args.smoke ? 1 : 10;
const log = (...a) => console.error('[stream]', ...a);
const outDir = args.out ?? join(repoRoot, 'bench/results/stream');
const bodies = churnParity().parity.rows.map((r) => r.features);

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The member as users run it, until stopped. */
async function startMember(broker) {
  const statusPort = await freePort();
  const proc = spawn(
    process.execPath,
    [
      join(repoRoot, 'packages/cli/bin/ortline.js'),
      'stream',
      '--brokers',
      broker.bootstrap,
      '--in',
      'customers',
      '--out',
      'scores',
      '--model',
      'churn',
      '--status-host',
      '127.0.0.1',
      '--status-port',
      String(statusPort),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d.toString()));
  const exited = new Promise((r) => proc.once('exit', r));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`ortline stream exited: ${stderr}`);
    const ready = await fetch(`http://127.0.0.1:${statusPort}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`ortline stream not ready within 60 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    stderr: () => stderr,
    async stop() {
      proc.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`ortline stream exited with ${code} on SIGTERM: ${stderr}`);
    },
  };
}

/** Offers `rate` records/s for `seconds`, reading answers back; latency per answered record. */
async function offer(producer, answers, rate, seconds, firstId) {
  const sentAt = new Map();
  const latencies = [];
  answers.handler = (key, now) => {
    const t = sentAt.get(key);
    if (t !== undefined) {
      latencies.push(now - t);
      sentAt.delete(key);
    }
  };
  const total = Math.round(rate * seconds);
  const started = performance.now();
  let sent = 0;
  // One send in flight at a time (the idempotent producer's sequence numbers need it); what is
  // generated meanwhile waits for the next send, its latency counting from its generation.
  let pending = [];
  let sending = Promise.resolve();
  let failure;
  const flush = () => {
    // A send stays under the broker's message size however far the producer falls behind.
    for (let i = 0; i < pending.length; i += MAX_SEND) {
      const messages = pending.slice(i, i + MAX_SEND);
      sending = sending.then(() => producer.send({ messages })).catch((err) => (failure ??= err));
    }
    pending = [];
  };
  while (sent < total) {
    if (failure) throw failure;
    const due = Math.min(total, Math.round(((performance.now() - started) / 1000) * rate) + 1);
    const messages = [];
    const now = performance.now();
    for (; sent < due; sent++) {
      const id = `c${firstId + sent}`;
      sentAt.set(id, now);
      messages.push({
        topic: 'customers',
        partition: sent % PARTITIONS,
        key: Buffer.from(id),
        value: Buffer.from(JSON.stringify({ customer_id: id, ...bodies[sent % bodies.length] })),
      });
    }
    pending.push(...messages);
    if (pending.length > 0) flush();
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  await sending;
  if (failure) throw failure;
  const offeredSeconds = (performance.now() - started) / 1000;
  // Answers still due get up to 10 s; what is missing then counts against the rate.
  const deadline = performance.now() + 10_000;
  while (sentAt.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const answeredSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    offered_per_s: rate,
    records: total,
    answered: latencies.length,
    missing: sentAt.size,
    answered_per_s: Math.round(latencies.length / Math.max(answeredSeconds, offeredSeconds)),
    p50_ms: quantile(latencies, 0.5),
    p99_ms: quantile(latencies, 0.99),
    max_ms: latencies.at(-1) ?? null,
  };
}

const broker = await KafkaBroker.start();
let member;
try {
  await broker.createTopics(['customers', 'scores', 'customers.dead-letter'], PARTITIONS);
  member = await startMember(broker);
  const producer = new Producer({ clientId: 'bench-producer', bootstrapBrokers: [broker.bootstrap], idempotent: true });
  const consumer = new Consumer({
    groupId: 'bench-reader',
    clientId: 'bench-reader',
    bootstrapBrokers: [broker.bootstrap],
    maxWaitTime: 5,
  });
  const answers = { handler: () => {} };
  const stream = await consumer.consume({ topics: ['scores'], mode: 'earliest', autocommit: false });
  stream.on('data', (m) => answers.handler(m.key.toString(), performance.now()));
  // The broker is a JVM: its first seconds run interpreted, and every record then waits on it.
  // A warm-up at the first rate, not reported, measures the loop rather than the JIT.
  const warmup = await offer(producer, answers, rates[0], WARMUP_SECONDS, 0);
  log(
    `warm-up at ${rates[0]}/s: p50 ${warmup.p50_ms?.toFixed(1)} ms, p99 ${warmup.p99_ms?.toFixed(1)} ms (not reported)`,
  );
  const results = [];
  let firstId = warmup.records;
  for (const rate of rates) {
    const r = await offer(producer, answers, rate, seconds, firstId);
    firstId += r.records;
    r.kept_up = r.missing === 0 && r.answered_per_s >= 0.95 * rate && r.p99_ms !== null && r.p99_ms < 1000;
    log(
      `${rate}/s offered: ${r.answered_per_s}/s answered, p50 ${r.p50_ms?.toFixed(1)} ms, p99 ${r.p99_ms?.toFixed(1)} ms${r.kept_up ? '' : ' (did not keep up)'}`,
    );
    results.push(r);
    if (!r.kept_up) break;
  }
  await stream.close();
  await consumer.close();
  await producer.close();
  await member.stop();
  member = undefined;

  const claimed = results[0];
  const sustained = results.filter((r) => r.kept_up).at(-1);
  const command = `node bench/src/stream.mjs --rates ${rates.join(',')} --seconds ${seconds}`;
  const created = new Date().toISOString();
  const result = {
    created,
    command,
    machine: machineInfo(),
    partitions: PARTITIONS,
    seconds,
    results,
    max_sustained_per_s: sustained?.offered_per_s ?? null,
  };
  const row = (r) =>
    `| ${r.offered_per_s} | ${r.answered_per_s} | ${r.p50_ms?.toFixed(1)} | ${r.p99_ms?.toFixed(1)} | ${r.max_ms?.toFixed(1)} | ${r.kept_up ? 'yes' : 'no'} |`;
  const md = [
    '# Stream scoring: `ortline stream` against a real Kafka broker',
    '',
    `\`${command}\`, ${created}, ${machineInfo().cpu} (${machineInfo().cores} cores, shared by the broker, the producer, the reader and the member); ${PARTITIONS} partitions, one member.`,
    '',
    '| offered/s | answered/s | p50 ms | p99 ms | max ms | kept up |',
    '|---:|---:|---:|---:|---:|---|',
    ...results.map(row),
    '',
    `At ${claimed.offered_per_s} records/s: p99 **${claimed.p99_ms?.toFixed(1)} ms**. Highest rate kept up: **${sustained?.offered_per_s ?? 'none'}** records/s.`,
    '',
  ].join('\n');
  writeRun(outDir, result, { md });
  log(`report: ${join(outDir, 'latest.md')}`);
} finally {
  await member?.stop().catch(() => {});
  await broker.stop();
}
