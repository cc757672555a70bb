// Scoring a Kafka stream against a real broker (Apache Kafka in KRaft mode, started here):
// 100,000 records on 4 partitions, every one answered once, in order per partition, with the
// HTTP API's answer; bad records in the dead-letter topic with their errors while the good ones
// around them flow.
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBroker } from '../../../bench/src/kafka-broker.mjs';
import { churnDir, parity, postJson, startInProcess } from '../../gateway/test/helpers.js';
import { type BulkModel, loadBulkModel } from '../src/bulk/model.js';
import { StreamScorer } from '../src/stream/stream-scorer.js';
import { collect, type Produced, produce, readAll, until } from './kafka-io.js';

describe('ortline stream against a real Kafka broker', () => {
  let broker: KafkaBroker;
  let model: BulkModel;
  beforeAll(async () => {
    broker = await KafkaBroker.start();
    model = await loadBulkModel(churnDir(), { batchRows: 256 });
  }, 90_000);
  afterAll(async () => {
    await model?.close();
    await broker?.stop();
  });

  /** A member reading `topic` into `topic.scores` (the first test: `scores`), dead letters to `topic.dead-letter`. */
  const scorerOn = (
    topic: string,
    options: { out?: string; groupId?: string; clientId?: string; maxBatchRows: number },
    on: BulkModel = model,
  ) =>
    new StreamScorer(on, {
      brokers: [broker.bootstrap],
      inTopic: topic,
      outTopic: options.out ?? `${topic}.scores`,
      deadLetterTopic: `${topic}.dead-letter`,
      groupId: options.groupId ?? `${topic}-scorers`,
      maxBatchRows: options.maxBatchRows,
      ...(options.clientId ? { clientId: options.clientId } : {}),
    });

  it('answers every record once, in order per partition, and dead-letters the bad ones', async () => {
    await broker.createTopics(['customers', 'scores', 'customers.dead-letter'], 4);
    const rows = parity().rows;
    const records: Produced[] = [];
    const bad = new Map<string, string>(); // key -> the error code expected
    for (let i = 0; i < 100_000; i++) {
      const row = rows[i % rows.length]!;
      const key = `c${i}`;
      let value: string | Buffer = JSON.stringify({ customerID: key, ...row.features });
      if (i % 997 === 13) {
        value = `{"customerID":"${key}", "tenure": `; // cut short
        bad.set(key, 'MALFORMED_BODY');
      } else if (i % 997 === 50) {
        value = JSON.stringify({ customerID: key, ...row.features, tenure: 'twelve' });
        bad.set(key, 'INVALID_FEATURES');
      } else if (i === 99_999) {
        value = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]); // not UTF-8
        bad.set(key, 'MALFORMED_BODY');
      }
      records.push({ partition: i % 4, key, value });
    }
    await produce(broker, 'customers', records);

    const scorer = scorerOn('customers', { out: 'scores', groupId: 'scorers', maxBatchRows: 256 });
    await scorer.start();
    // Back-pressure: whatever the backlog (all 100,000 records are there from the start), what
    // the process holds stays bounded by its batches and one fetch's bytes, not the backlog.
    let held = 0;
    const sampler = setInterval(() => {
      held = Math.max(held, scorer.heldRecords);
    }, 2);
    const answers = await readAll(broker, 'scores', records.length - bad.size, 150_000);
    clearInterval(sampler);
    console.log(`stream back-pressure: at most ${held} records held of a 100,000-record backlog`);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(10_000);
    const letters = await readAll(broker, 'customers.dead-letter', bad.size);
    await scorer.stop();

    // Every good record once, keyed by its id, on its input partition, in input order.
    expect(answers).toHaveLength(records.length - bad.size);
    expect(new Set(answers.map((a) => a.key)).size).toBe(answers.length);
    for (const p of [0, 1, 2, 3]) {
      const sent = records.filter((r) => r.partition === p && !bad.has(r.key)).map((r) => r.key);
      const got = answers.filter((a) => a.partition === p).sort((a, b) => Number(a.offset - b.offset));
      expect(got.map((a) => a.key)).toEqual(sent);
      expect(got.map((a) => a.value[model.answers.fields.id])).toEqual(sent);
      expect(got.every((a) => a.value.partition === p)).toBe(true);
      // The input offsets, in order: the answer says where its record was.
      const offsets = got.map((a) => a.value.offset as number);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
    // The same answer as the HTTP API gives for the same record (bar the prediction id).
    const byKey = new Map(records.filter((r) => !bad.has(r.key)).map((r) => [r.key, JSON.parse(String(r.value))]));
    const gw = await startInProcess();
    try {
      for (const a of answers.filter((_, i) => i % 500 === 0)) {
        const http = await postJson(`${gw.url}/v1/models/churn/versions/${model.version}/predict`, {
          instances: [byKey.get(a.key!)],
        });
        expect(http.status).toBe(200);
        const { prediction_id: _h, ...expected } = http.json.predictions[0];
        const { prediction_id: id, partition: _p, offset: _o, ...got } = a.value;
        expect(got).toEqual(expected);
        expect(typeof id).toBe('string');
      }
    } finally {
      await gw.close();
    }

    // Every bad record in the dead-letter topic, once, with its error and its value as sent.
    expect(letters.map((l) => l.key).sort()).toEqual([...bad.keys()].sort());
    for (const l of letters) {
      const sent = records.find((r) => r.key === l.key)!;
      expect(l.value.error.code).toBe(bad.get(l.key!));
      if (typeof sent.value === 'string') expect(l.value.value).toBe(sent.value);
      else expect(Buffer.from(l.value.value_base64, 'base64')).toEqual(sent.value);
      expect(l.value.source).toMatchObject({ topic: 'customers', partition: sent.partition });
      expect(l.partition).toBe(sent.partition);
    }
    const invalid = letters.find((l) => l.value.error.code === 'INVALID_FEATURES')!;
    expect(invalid.value.error.details.issues).toEqual([expect.objectContaining({ field: 'tenure' })]);

    expect(scorer.counts).toMatchObject({
      recordsIn: records.length,
      answers: records.length - bad.size,
      deadLetters: bad.size,
    });
  }, 300_000);

  it('shares the partitions between two members of a group; when one leaves, the other takes over', async () => {
    await broker.createTopics(['shared', 'shared.scores', 'shared.dead-letter'], 4);
    const rows = parity().rows;
    const records: Produced[] = Array.from({ length: 40_000 }, (_, i) => ({
      partition: i % 4,
      key: `s${i}`,
      value: JSON.stringify({ customerID: `s${i}`, ...rows[i % rows.length]!.features }),
    }));
    const member = (name: string) => scorerOn('shared', { clientId: name, maxBatchRows: 32 });
    const a = member('member-a');
    const b = member('member-b');
    await a.start();
    await b.start();
    // a learns of b's arrival at its next heartbeat: until both hold two partitions, a record
    // could be read by both (at least once allows that; this test counts exactly once).
    await until(() => a.partitions.length === 2 && b.partitions.length === 2, 'two partitions each');
    expect([...a.partitions, ...b.partitions].sort()).toEqual([0, 1, 2, 3]);
    const out = await collect(broker, 'shared.scores');
    try {
      await produce(broker, 'shared', records.slice(0, 20_000));
      await until(() => out.got.length >= 20_000, 'the first half answered', 90_000);
      const byA = a.counts.recordsIn;
      const byB = b.counts.recordsIn;
      expect(byA).toBeGreaterThan(0);
      expect(byB).toBeGreaterThan(0);
      expect(byA + byB).toBe(20_000);

      await a.stop(); // leaves the group: b gets every partition
      await until(() => b.partitions.length === 4, 'b holding every partition');
      await produce(broker, 'shared', records.slice(20_000));
      const keys = () => new Set(out.got.map((g) => g.key));
      await until(() => keys().size >= records.length, 'every record answered', 90_000);
      expect(a.counts.recordsIn).toBe(byA);
      expect(b.counts.recordsIn).toBeGreaterThanOrEqual(byB + 20_000);
      expect([...keys()].sort()).toEqual(records.map((r) => r.key).sort());
      // a committed everything it answered before leaving: nothing needed answering twice.
      expect(out.got.length).toBe(records.length);
    } finally {
      await b.stop();
      await out.stop();
    }
  }, 240_000);

  it('reads MessagePack values (by content-type, or by their first byte) and answers in MessagePack', async () => {
    await broker.createTopics(['packed', 'packed.scores', 'packed.dead-letter'], 2);
    const rows = parity().rows;
    const features = (i: number) => ({ customerID: `m${i}`, ...rows[i]!.features });
    const records: Produced[] = [
      { partition: 0, key: 'm0', value: pack(features(0)), contentType: 'application/msgpack' },
      { partition: 0, key: 'm1', value: pack(features(1)) }, // no header: a map's first byte says it
      { partition: 1, key: 'm2', value: JSON.stringify(features(2)), contentType: 'application/json' },
      { partition: 1, key: 'm3', value: JSON.stringify(features(3)), contentType: 'text/csv' },
      { partition: 1, key: 'm4', value: Buffer.from([0x82, 0xa1, 0x61]), contentType: 'application/msgpack' },
    ];
    await produce(broker, 'packed', records);
    const scorer = scorerOn('packed', { maxBatchRows: 16 });
    await scorer.start();
    try {
      const answers = await readAll(broker, 'packed.scores', 3);
      const letters = await readAll(broker, 'packed.dead-letter', 2);
      const byKey = new Map(answers.map((a) => [a.key, a]));
      expect([...byKey.keys()].sort()).toEqual(['m0', 'm1', 'm2']);
      expect(byKey.get('m0')!.contentType).toBe('application/msgpack');
      expect(byKey.get('m1')!.contentType).toBe('application/msgpack');
      expect(byKey.get('m2')!.contentType).toBe('application/json');
      const expected = await model.batcher.predict([features(0), features(1), features(2)]);
      ['m0', 'm1', 'm2'].forEach((k, i) => {
        const a = byKey.get(k)!.value;
        expect(a[model.answers.fields.probability]).toBe(expected[i]);
        expect(a[model.answers.fields.id]).toBe(k);
        expect(a.offset).toBe(k === 'm1' ? 1 : 0);
      });
      const codes = new Map(letters.map((l) => [l.key, l.value.error.code]));
      expect(codes).toEqual(
        new Map([
          ['m3', 'UNSUPPORTED_MEDIA_TYPE'],
          ['m4', 'MALFORMED_BODY'],
        ]),
      );
      const broken = letters.find((l) => l.key === 'm4')!.value;
      expect(broken.error.message).toMatch(/MessagePack/);
      expect(Buffer.from(broken.value_base64, 'base64')).toEqual(records[4]!.value);
    } finally {
      await scorer.stop();
    }
  }, 120_000);

  it('after a batch fails, sends and commits nothing more: a restart answers every record', async () => {
    await broker.createTopics(['fails', 'fails.scores', 'fails.dead-letter'], 1);
    const rows = parity().rows;
    const records: Produced[] = Array.from({ length: 1000 }, (_, i) => ({
      partition: 0,
      key: `f${i}`,
      value: JSON.stringify({ customerID: `f${i}`, ...rows[i % rows.length]!.features }),
    }));
    await produce(broker, 'fails', records);
    // The real model, whose third batch fails as a native run could.
    let calls = 0;
    const failing: BulkModel = {
      ...model,
      batcher: Object.assign(Object.create(model.batcher), {
        scoreColumns: (...args: Parameters<typeof model.batcher.scoreColumns>) =>
          ++calls === 3 ? Promise.reject(new Error('injected run failure')) : model.batcher.scoreColumns(...args),
      }),
    };
    const first = scorerOn('fails', { maxBatchRows: 100 }, failing);
    await first.start();
    await expect(first.closed()).rejects.toThrow('injected run failure');
    const before = await readAll(broker, 'fails.scores', 200, 5_000);
    // Only the batches before the failed one were answered.
    expect(before.map((a) => a.key)).toEqual(records.slice(0, 200).map((r) => r.key));

    const second = scorerOn('fails', { maxBatchRows: 100 });
    await second.start();
    try {
      const all = await readAll(broker, 'fails.scores', records.length);
      expect(all.map((a) => a.key)).toEqual(records.map((r) => r.key));
    } finally {
      await second.stop();
    }
  }, 120_000);
});
