// The test broker itself: it starts, takes topics, and a record produced is the record consumed.
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBroker } from '../../../bench/src/kafka-broker.mjs';

describe('the Kafka broker the stream tests start', () => {
  let broker: KafkaBroker;
  beforeAll(async () => {
    broker = await KafkaBroker.start();
  }, 90_000);
  afterAll(async () => {
    await broker?.stop();
  });

  it('round-trips records through a 2-partition topic, each once, in order per partition', async () => {
    await broker.createTopics(['roundtrip'], 2);
    const producer = new Producer({
      clientId: 'test-producer',
      bootstrapBrokers: [broker.bootstrap],
      // A produce retried after a partial failure (a new topic's leader not yet known) would
      // otherwise append the same records twice; the broker drops an idempotent producer's repeats.
      idempotent: true,
      serializers: stringSerializers,
    });
    const sent = Array.from({ length: 50 }, (_, i) => ({
      topic: 'roundtrip',
      partition: i % 2,
      key: `k${i}`,
      value: `v${i}`,
    }));
    await producer.send({ messages: sent });
    await producer.close();

    const consumer = new Consumer({
      groupId: 'test-group',
      clientId: 'test-consumer',
      bootstrapBrokers: [broker.bootstrap],
      deserializers: stringDeserializers,
    });
    const stream = await consumer.consume({ topics: ['roundtrip'], mode: 'earliest', autocommit: false });
    const got: { partition: number; value: string }[] = [];
    stream.on('data', (m) => got.push({ partition: m.partition, value: m.value }));
    const deadline = Date.now() + 20_000;
    while (got.length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // A record delivered twice would arrive after the last one: give it time to.
    await new Promise((r) => setTimeout(r, 500));
    await stream.close();
    await consumer.close();
    for (const p of [0, 1])
      expect(got.filter((g) => g.partition === p).map((g) => g.value)).toEqual(
        sent.filter((s) => s.partition === p).map((s) => s.value),
      );
  }, 60_000);
});
