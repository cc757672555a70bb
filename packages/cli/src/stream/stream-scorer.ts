// Scoring a Kafka stream with one model version: a consumer-group member reads records, scores
// them in micro-batches through the Batcher (a batch is what the fetches have brought, up to the
// batch row limit), and produces each record's answer (or dead letter) to the same partition
// number of the output (or dead-letter) topic, so order per partition is kept.
//
// Delivery is at least once. A batch's offsets are committed only after the broker has
// acknowledged every answer and dead letter of that batch and of every batch before it (sends
// are chained; commits follow the acknowledgements, one request at a time, without holding up
// the next send); a crash between the two re-delivers the batch, never loses it. Records the
// client hands over twice in one run (a re-fetch after a group join) are skipped by offset, and
// records of a partition that moved to another member are left to that member.
// Back-pressure: at most `maxInFlightBatches` batches are between read and commit; while they
// are, nothing is read, the client's buffer fills and it stops fetching.

import { type Format, MSGPACK_FORMAT } from '@ortline/gateway';
import type { FeatureIssue } from '@ortline/scorer';
import { Admin, Consumer, type Message, type MessagesStream, Producer } from '@platformatic/kafka';
import type { BulkModel } from '../bulk/model.js';
import {
  answerKey,
  answerValue,
  deadLetterValue,
  decodeValue,
  invalidFeatures,
  type Rejection,
  type Source,
} from './records.js';

export interface StreamOptions {
  readonly brokers: readonly string[];
  readonly inTopic: string;
  readonly outTopic: string;
  readonly deadLetterTopic: string;
  readonly groupId: string;
  readonly clientId?: string;
  /** Most records in one batch (the Batcher's row limit). */
  readonly maxBatchRows: number;
  readonly onError?: (err: Error) => void;
  /** Called once a batch's answers and dead letters are acknowledged (before its commit). */
  readonly onDelivered?: (delivered: Delivered) => void;
}

export interface Delivered {
  readonly answers: number;
  readonly deadLetters: number;
  /** The records' timestamps (ms since the epoch), for end-to-end latency. */
  readonly timestamps: readonly bigint[];
  /** When the broker acknowledged them (ms since the epoch). */
  readonly ackedAt: number;
}

export class StreamConfigError extends Error {
  override readonly name = 'StreamConfigError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface StreamCounts {
  /** Records read (duplicates skipped not included). */
  recordsIn: number;
  answers: number;
  deadLetters: number;
  /** Records the client delivered again in this run, skipped by offset. */
  duplicatesSkipped: number;
  /** Records of partitions no longer assigned to this member (fetched before a rebalance), skipped. */
  unassignedSkipped: number;
  batches: number;
  commitFailures: number;
}

export function emptyCounts(): StreamCounts {
  return {
    recordsIn: 0,
    answers: 0,
    deadLetters: 0,
    duplicatesSkipped: 0,
    unassignedSkipped: 0,
    batches: 0,
    commitFailures: 0,
  };
}

interface Batch {
  readonly messages: Message<Buffer, Buffer, Buffer, Buffer>[];
  /** Per message: its score's index, or -1 with its rejection in `rejections`. */
  readonly slot: Int32Array;
  readonly records: unknown[];
  readonly formats: Format[];
  readonly rejections: (Rejection | undefined)[];
  readonly scores: Promise<Float64Array>;
}

const FETCH_MAX_BYTES = 1 << 20;
/** Batches between read and acknowledgement, at most. */
const MAX_IN_FLIGHT_BATCHES = 2;
/** The longest a fetch waits on the broker for records (ms); also bounds how long stop() waits for one. */
const MAX_WAIT_MS = 500;
/**
 * How long the group waits for a silent member before its partitions go to the others (ms). A
 * member that died (SIGKILL, a lost machine) holds its partitions until its session ends: 10 s,
 * not the client's minute, bounds how long they wait.
 */
const SESSION_TIMEOUT_MS = 10_000;
const CONTENT_TYPE = Buffer.from('content-type');
const JSON_HEADERS = new Map([[CONTENT_TYPE, Buffer.from('application/json')]]);
const MSGPACK_HEADERS = new Map([[CONTENT_TYPE, Buffer.from('application/msgpack')]]);

/** A record's content-type header (any case), when it has one. */
function contentTypeOf(headers: Map<Buffer, Buffer> | undefined): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of headers) if (k.toString('latin1').toLowerCase() === 'content-type') return v.toString('latin1');
  return undefined;
}

const sourceOf = (m: Message<Buffer, Buffer, Buffer, Buffer>): Source => ({
  topic: m.topic,
  partition: m.partition,
  offset: m.offset,
  timestamp: m.timestamp,
});

export class StreamScorer {
  readonly counts: StreamCounts = emptyCounts();
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** Per input partition, the offset after the last record read in this run. */
  private readonly next = new Map<number, bigint>();
  private inFlight = 0;
  /** Per partition, the offset after the last record whose answer the broker acknowledged. */
  private readonly acked = new Map<number, bigint>();
  private committing: Promise<void> | undefined;
  private inFlightRecords = 0;
  private sending: Promise<void> = Promise.resolve();
  private stopping = false;
  private joined = false;
  private failed: Error | undefined;
  private readonly done: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly model: BulkModel,
    private readonly options: StreamOptions,
  ) {
    const clientId = options.clientId ?? `ortline-stream-${process.pid}`;
    this.consumer = new Consumer({
      groupId: options.groupId,
      clientId,
      bootstrapBrokers: [...options.brokers],
      maxWaitTime: MAX_WAIT_MS,
      // What is read ahead is bounded twice: by records (the stream's buffer) and by the bytes of
      // one fetch (the broker returns at least one batch even when it is larger).
      highWaterMark: options.maxBatchRows,
      maxBytes: FETCH_MAX_BYTES,
      sessionTimeout: SESSION_TIMEOUT_MS,
      rebalanceTimeout: SESSION_TIMEOUT_MS * 2,
      heartbeatInterval: SESSION_TIMEOUT_MS / 10,
      // A join waits on the broker for the whole rebalance: the request must outlast it.
      timeout: SESSION_TIMEOUT_MS * 2 + 5_000,
    });
    // Idempotent: a send retried after a partial failure must not append the same answers twice.
    this.producer = new Producer({ clientId, bootstrapBrokers: [...options.brokers], idempotent: true });
    this.done = new Promise((r) => {
      this.finish = r;
    });
  }

  /**
   * Checks the topics, joins the group and starts reading. The output and dead-letter topics
   * must have at least as many partitions as the input: record i of input partition p goes to
   * partition p of each.
   */
  async start(): Promise<void> {
    const o = this.options;
    const admin = new Admin({ clientId: `${o.clientId ?? 'ortline-stream'}-admin`, bootstrapBrokers: [...o.brokers] });
    try {
      const topics = [o.inTopic, o.outTopic, o.deadLetterTopic];
      // Asked first: metadata for a topic that does not exist fails as a whole, naming no code.
      const existing = new Set(await admin.listTopics());
      for (const t of topics)
        if (!existing.has(t))
          throw new StreamConfigError('UNKNOWN_TOPIC', `topic "${t}" does not exist on the brokers`);
      const meta = await admin.metadata({ topics });
      const count = (t: string) => meta.topics.get(t)?.partitionsCount ?? 0;
      for (const t of [o.outTopic, o.deadLetterTopic])
        if (count(t) < count(o.inTopic))
          throw new StreamConfigError(
            'TOO_FEW_PARTITIONS',
            `topic "${t}" has ${count(t)} partitions, fewer than the ${count(o.inTopic)} of input topic "${o.inTopic}": answers go to the input's partition number`,
          );
    } finally {
      await admin.close();
    }
    this.stream = await this.consumer.consume({
      topics: [o.inTopic],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
    });
    this.joined = true;
    this.stream.on('readable', () => this.pump());
    this.stream.on('error', (err: Error) => this.fail(err));
  }

  /** Joined the group and reading, not stopping. */
  get ready(): boolean {
    return this.joined && !this.stopping;
  }

  /** Records held in this process: fetched and not yet read, or read and not yet committed. */
  get heldRecords(): number {
    return (this.stream?.readableLength ?? 0) + this.inFlightRecords;
  }

  /** The input partitions this member is assigned now (they change when members join or leave). */
  get partitions(): number[] {
    const mine = (this.consumer.assignments ?? []).find((a) => a.topic === this.options.inTopic);
    return mine ? [...mine.partitions].sort((x, y) => x - y) : [];
  }

  /**
   * Records behind per input partition this member is assigned (the log's end minus the
   * committed offset); partitions it is not assigned, or has not committed yet, are left out.
   */
  async lag(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (!this.ready) return out;
    const lag = await this.consumer.getLag({ topics: [this.options.inTopic] });
    (lag.get(this.options.inTopic) ?? []).forEach((l, partition) => {
      if (l >= 0n) out.set(partition, Number(l));
    });
    return out;
  }

  /** Resolves when the scorer has stopped: after stop(), or after a failure (then it rejects). */
  async closed(): Promise<void> {
    await this.done;
    if (this.failed) throw this.failed;
  }

  /** Stops reading, answers and commits what was read, leaves the group, closes the clients. */
  async stop(): Promise<void> {
    if (this.stopping) return this.closed();
    this.stopping = true;
    try {
      await this.sending;
      while (this.committing) await this.committing;
      await this.stream?.close();
      await this.consumer.close();
      await this.producer.close();
    } finally {
      this.finish();
    }
    return this.closed();
  }

  /**
   * Commits what is acknowledged, all partitions in one request, one request at a time (so
   * offsets only rise); what is acknowledged meanwhile goes in the next one. Sending does not wait
   * for commits: a commit costs a round trip to the group coordinator, and batches would queue
   * behind it.
   */
  private commitAcked(): void {
    if (this.committing || this.acked.size === 0) return;
    const offsets = [...this.acked].map(([partition, offset]) => ({
      topic: this.options.inTopic,
      partition,
      offset,
      leaderEpoch: -1,
    }));
    this.acked.clear();
    this.committing = this.consumer
      .commit({ offsets })
      .catch((err: unknown) => {
        // A partition moved to another member (a rebalance): it reads from the last commit, so
        // these answers may be given twice, which at-least-once allows; none is lost.
        this.counts.commitFailures++;
        this.options.onError?.(err as Error);
      })
      .finally(() => {
        this.committing = undefined;
        this.commitAcked();
      });
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.options.onError?.(err);
    // Nothing after the failure is committed: what was not answered is read again on restart.
    void this.stop().catch(() => {});
  }

  private pump(): void {
    const stream = this.stream;
    while (stream && !this.stopping && this.inFlight < MAX_IN_FLIGHT_BATCHES) {
      const messages: Message<Buffer, Buffer, Buffer, Buffer>[] = [];
      const owned = this.consumer.assignments ? new Set(this.partitions) : undefined;
      while (messages.length < this.options.maxBatchRows) {
        const m = stream.read() as Message<Buffer, Buffer, Buffer, Buffer> | null;
        if (m === null) break;
        // A fetch sent before a rebalance can still bring records of a partition that has moved
        // to another member since: that member answers them; answering here too would be twice.
        if (owned && !owned.has(m.partition)) {
          this.counts.unassignedSkipped++;
          continue;
        }
        const next = this.next.get(m.partition);
        if (next !== undefined && m.offset < next) {
          this.counts.duplicatesSkipped++;
          continue;
        }
        this.next.set(m.partition, m.offset + 1n);
        messages.push(m);
      }
      if (messages.length === 0) return;
      this.inFlight++;
      this.inFlightRecords += messages.length;
      const batch = this.score(messages);
      this.sending = this.sending
        .then(() => this.deliver(batch))
        .catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))))
        .finally(() => {
          this.inFlight--;
          this.inFlightRecords -= messages.length;
          this.pump();
        });
    }
  }

  private score(messages: Message<Buffer, Buffer, Buffer, Buffer>[]): Batch {
    const n = messages.length;
    const slot = new Int32Array(n).fill(-1);
    const rejections: (Rejection | undefined)[] = new Array(n);
    const records: unknown[] = new Array(n);
    const formats: Format[] = new Array(n);
    const decoded: unknown[] = [];
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const m = messages[i]!;
      const d = decodeValue(m.value, contentTypeOf(m.headers));
      if ('rejection' in d) rejections[i] = d.rejection;
      else {
        records[i] = d.record;
        formats[i] = d.format;
        decoded.push(d.record);
        at.push(i);
      }
    }
    // Records go into the model's columns once, checked as they are written (as the bulk path
    // does); only a batch with a bad record writes its good ones a second time.
    const schema = this.model.schema;
    const issues: FeatureIssue[] = [];
    let cols = schema.allocate(decoded.length);
    schema.write(decoded, cols, 0, issues);
    const byRow = new Map<number, FeatureIssue[]>();
    for (const x of issues) {
      const list = byRow.get(x.row);
      if (list) list.push(x);
      else byRow.set(x.row, [x]);
    }
    let good = decoded.length;
    if (byRow.size > 0) {
      const kept: unknown[] = [];
      at.forEach((i, r) => {
        const bad = byRow.get(r);
        if (bad) rejections[i] = invalidFeatures(bad);
        else kept.push(decoded[r]);
      });
      good = kept.length;
      cols = schema.allocate(good);
      schema.write(kept, cols, 0, []);
    }
    let j = 0;
    for (const i of at) if (!rejections[i]) slot[i] = j++;
    const scores = good > 0 ? this.model.batcher.scoreColumns(cols, good) : Promise.resolve(new Float64Array(0));
    scores.catch(() => {}); // handled in deliver, in order
    this.counts.recordsIn += n;
    return { messages, slot, records, formats, rejections, scores };
  }

  private async deliver(batch: Batch): Promise<void> {
    // After a failed batch nothing more is sent: a later batch's commit would pass over the
    // failed one's records, and they would be lost rather than read again on restart.
    if (this.failed) return;
    const scores = await batch.scores;
    const o = this.options;
    const out = batch.messages.map((m, i) => {
      const from = sourceOf(m);
      const j = batch.slot[i]!;
      if (j >= 0) {
        const record = batch.records[i];
        const key = answerKey(this.model.answers, record, m.key);
        const format = batch.formats[i]!;
        return {
          topic: o.outTopic,
          partition: m.partition,
          ...(key ? { key } : {}),
          value: answerValue(this.model.answers, record, scores[j]!, from, format),
          headers: format === MSGPACK_FORMAT ? MSGPACK_HEADERS : JSON_HEADERS,
        };
      }
      return {
        topic: o.deadLetterTopic,
        partition: m.partition,
        ...(m.key && m.key.length > 0 ? { key: m.key } : {}),
        value: Buffer.from(deadLetterValue(batch.rejections[i]!, from, m.value)),
        headers: JSON_HEADERS,
      };
    });
    await this.producer.send({ messages: out });
    const answers = scores.length;
    const deadLetters = batch.messages.length - answers;
    this.counts.answers += answers;
    this.counts.deadLetters += deadLetters;
    this.counts.batches++;
    this.options.onDelivered?.({
      answers,
      deadLetters,
      timestamps: batch.messages.map((m) => m.timestamp),
      ackedAt: Date.now(),
    });
    // Acknowledged: every partition of the batch may be committed past its last record.
    for (const m of batch.messages) this.acked.set(m.partition, m.offset + 1n);
    this.commitAcked();
  }
}
