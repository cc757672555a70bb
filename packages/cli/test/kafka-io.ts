// Producing to and reading from a test broker's topics, for the stream tests.
import { Consumer, type Message, Producer } from '@platformatic/kafka';
import { unpack } from 'msgpackr';
import type { KafkaBroker } from '../../../bench/src/kafka-broker.mjs';

export interface Produced {
  readonly partition: number;
  readonly key: string;
  readonly value: string | Buffer;
  readonly contentType?: string;
}

export interface Got {
  readonly partition: number;
  readonly offset: bigint;
  readonly key: string | undefined;
  readonly value: Record<string, any>;
  readonly contentType: string | undefined;
}

/** A value as JSON, or as MessagePack when its content-type says so. */
function decoded(value: Buffer, contentType: string | undefined): Record<string, any> {
  return contentType === 'application/msgpack' ? unpack(value) : JSON.parse(value.toString());
}

function got(m: Message<Buffer, Buffer, Buffer, Buffer>): Got {
  const contentType = [...m.headers].find(([k]) => k.toString() === 'content-type')?.[1].toString();
  return {
    partition: m.partition,
    offset: m.offset,
    key: m.key?.length ? m.key.toString() : undefined,
    value: decoded(m.value, contentType),
    contentType,
  };
}

export async function produce(broker: KafkaBroker, topic: string, records: readonly Produced[]): Promise<void> {
  const producer = new Producer({ clientId: 'test-input', bootstrapBrokers: [broker.bootstrap], idempotent: true });
  try {
    for (let i = 0; i < records.length; i += 500)
      await producer.send({
        messages: records.slice(i, i + 500).map((r) => ({
          topic,
          partition: r.partition,
          key: Buffer.from(r.key),
          value: typeof r.value === 'string' ? Buffer.from(r.value) : r.value,
          ...(r.contentType ? { headers: new Map([[Buffer.from('content-type'), Buffer.from(r.contentType)]]) } : {}),
        })),
      });
  } finally {
    await producer.close();
  }
}

/** Reads `topic` from the start until `count` records came, then 500 ms more (to see any extra). */
export async function readAll(broker: KafkaBroker, topic: string, count: number, timeoutMs = 60_000): Promise<Got[]> {
  const consumer = new Consumer({
    groupId: `test-reader-${topic}-${Math.random()}`,
    clientId: 'test-reader',
    bootstrapBrokers: [broker.bootstrap],
    maxWaitTime: 200,
  });
  const received: Got[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    stream.on('data', (m) => received.push(got(m)));
    const deadline = Date.now() + timeoutMs;
    while (received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 500));
    await stream.close();
  } finally {
    await consumer.close();
  }
  return received;
}

/** Collects a topic's records from the start as they come, until stopped. */
export async function collect(broker: KafkaBroker, topic: string): Promise<{ got: Got[]; stop: () => Promise<void> }> {
  const consumer = new Consumer({
    groupId: `test-collector-${topic}-${Math.random()}`,
    clientId: 'test-collector',
    bootstrapBrokers: [broker.bootstrap],
    maxWaitTime: 200,
  });
  const received: Got[] = [];
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  stream.on('data', (m) => received.push(got(m)));
  return {
    got: received,
    stop: async () => {
      await stream.close();
      await consumer.close();
    },
  };
}

/** Waits until `ready()` holds, failing after `timeoutMs` with `what`. */
export async function until(ready: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
