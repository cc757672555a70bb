// Types of kafka-broker.mjs, for the TypeScript tests that start a broker with it.
export declare class KafkaBroker {
  readonly port: number;
  /** `127.0.0.1:PORT`, as clients take it. */
  get bootstrap(): string;
  get pid(): number | undefined;
  /** What the broker logged, for a failure's message. */
  log(): string;
  /** Formats a fresh log folder, starts the broker and waits until it serves metadata. */
  static start(): Promise<KafkaBroker>;
  /** Creates topics with `partitions` partitions each (replication 1). */
  createTopics(topics: string[], partitions: number): Promise<void>;
  /** Kills the broker and removes its data. */
  stop(): Promise<void>;
}
