#!/usr/bin/env node
// Latency at low load: one connection, one record at a time, the next sent when the answer is
// in. The gateway (caches off) against the uWebSockets.js echo server (reads the body, parses the
// JSON, answers a constant): what is left between them is validation, scoring and the answer.
// The client is a raw socket with the request bytes prepared once, so it adds as little as it
// can; rounds alternate between the two servers and the median round is reported.
//
//   node bench/src/latency.mjs [--requests 20000] [--rounds 3] [--body JSON] [--out DIR] [--smoke]
//
// The bodies are the parity rows in turn, or one given body (`--body`). An answer other than 200
// fails the run: a refusal is not a latency.
import { connect } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { churnParity, machineInfo, median, recordBody, repoRoot, writeRun } from './common.mjs';
import { systems } from './systems.mjs';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    body: { type: 'string' },
    out: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
const requests = args.smoke ? 500 : Number(args.requests);
const rounds = args.smoke ? 1 : Number(args.rounds);
if (!(requests > 0) || !(rounds > 0)) {
  console.error('usage: latency.mjs [--requests N>0] [--rounds N>0] [--body JSON] [--out DIR] [--smoke]');
  process.exit(2);
}
const log = (...a) => console.error('[latency]', ...a);

/** `count` sequential requests over one connection; each one's round trip in µs, sorted. */
function measure(url, bodies, count) {
  const { hostname, port } = new URL(url);
  const requests = bodies.map((b) =>
    Buffer.from(
      `POST /v1/models/churn/predict HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`,
    ),
  );
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), noDelay: true });
    const times = new Float64Array(count);
    let sent = 0;
    let started = 0n;
    let pending = Buffer.alloc(0);
    const send = () => {
      started = process.hrtime.bigint();
      socket.write(requests[sent % requests.length]);
    };
    socket.on('connect', send);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      const head = pending.indexOf('\r\n\r\n');
      if (head < 0) return;
      const headers = pending.subarray(0, head).toString('latin1');
      const status = Number(headers.slice(9, 12));
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? Number.NaN);
      if (!(length >= 0)) return reject(new Error(`no content-length in ${JSON.stringify(headers)}`));
      if (pending.length < head + 4 + length) return;
      if (status !== 200) return reject(new Error(`status ${status}: ${pending.subarray(head + 4).toString()}`));
      times[sent] = Number(process.hrtime.bigint() - started) / 1000;
      pending = pending.subarray(head + 4 + length);
      if (++sent === count) {
        socket.end();
        return resolve(times.sort());
      }
      send();
    });
  });
}

const at = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

const { parity } = churnParity();
const bodies = args.body === undefined ? parity.rows.map(recordBody) : [args.body];
const wanted = ['ortline', 'uws-echo'];
const list = systems({ l1: true, hotShare: 0 }).filter((s) => wanted.includes(s.id));
const started = [];
const samples = Object.fromEntries(wanted.map((id) => [id, []]));
try {
  for (const s of list) started.push({ s, srv: await s.start() });
  for (const { srv } of started) await measure(srv.url, bodies, Math.min(2000, requests)); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const { s, srv } of started) {
      const t = await measure(srv.url, bodies, requests);
      const r = { p50: at(t, 0.5), p90: at(t, 0.9), p99: at(t, 0.99), mean: t.reduce((a, b) => a + b, 0) / t.length };
      samples[s.id].push(r);
      log(`round ${round + 1}/${rounds} ${s.id}: p50 ${r.p50.toFixed(1)} µs, p99 ${r.p99.toFixed(1)} µs`);
    }
  }
} finally {
  await Promise.all(started.map(({ srv }) => srv.stop()));
}

const pick = (id, k) => median(samples[id].map((r) => r[k]));
const results = wanted.map((id) => ({
  system: id,
  p50_us: pick(id, 'p50'),
  p90_us: pick(id, 'p90'),
  p99_us: pick(id, 'p99'),
  mean_us: pick(id, 'mean'),
}));
const ratio = pick('ortline', 'p50') / pick('uws-echo', 'p50');
const created = new Date().toISOString();
const command = `node bench/src/latency.mjs --requests ${requests} --rounds ${rounds}${args.smoke ? ' --smoke' : ''}`;
const md = [
  '# Latency at low load: one connection, one record at a time',
  '',
  `\`${command}\`, ${created}, ${machineInfo().cpu} (${machineInfo().cores} cores); median of ${rounds} round(s) of ${requests} requests.`,
  '',
  '| System | p50 µs | p90 µs | p99 µs | mean µs |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.system} | ${r.p50_us.toFixed(1)} | ${r.p90_us.toFixed(1)} | ${r.p99_us.toFixed(1)} | ${r.mean_us.toFixed(1)} |`,
  ),
  '',
  `ortline's p50 over the echo server's: **${ratio.toFixed(2)}x** (target: at most 2x).`,
  '',
].join('\n');
const outDir = args.out ?? join(repoRoot, args.smoke ? 'bench/results/latency-smoke' : 'bench/results/latency');
writeRun(outDir, { created, command, machine: machineInfo(), requests, rounds, results, ratio }, { md });
console.log(md);
log(`report: ${join(outDir, 'latest.md')}`);
