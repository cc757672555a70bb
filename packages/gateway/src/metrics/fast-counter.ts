// A Prometheus counter for the request path, the counterpart of fast-histogram.ts: a child is
// resolved once per label set and an increment is one add (prom-client's Counter hashes the
// label set on every inc). prom-client's Registry renders it like any other metric.
export class CounterChild {
  readonly labels: Readonly<Record<string, string>>;
  value = 0;
  constructor(labels: Readonly<Record<string, string>>) {
    this.labels = labels;
  }
  inc(n = 1): void {
    this.value += n;
  }
}

export class FastCounter {
  readonly name: string;
  readonly help: string;
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly children: CounterChild[] = [];
  private readonly byLabels = new Map<string, CounterChild>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  /** The child for a label set (the same one when asked twice): resolve once, inc many times. */
  child(labels: Readonly<Record<string, string>>): CounterChild {
    const id = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let c = this.byLabels.get(id);
    if (!c) {
      c = new CounterChild(labels);
      this.byLabels.set(id, c);
      this.children.push(c);
    }
    return c;
  }

  /** Every child, for readers in this process (the live statistics). */
  all(): readonly CounterChild[] {
    return this.children;
  }

  get(): {
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { value: number; labels: Record<string, string> }[];
  } {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.children.map((c) => ({ value: c.value, labels: { ...c.labels } })),
    };
  }

  reset(): void {
    for (const c of this.children) c.value = 0;
  }
}
