// A Prometheus histogram for the request path. prom-client's Histogram validates and hashes the
// label set on every observe (even through `labels()` children), which costs more than the rest
// of a cached prediction's bookkeeping. Here a child is resolved once and an observe is a bucket
// search and three adds; prom-client's Registry renders it like any other metric.
export class HistogramChild {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  private readonly bounds: Float64Array;

  constructor(labels: Readonly<Record<string, string>>, bounds: Float64Array) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

export class FastHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: Float64Array;
  private readonly children: HistogramChild[] = [];
  private readonly byLabels = new Map<string, HistogramChild>();

  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.bounds = Float64Array.from(buckets);
  }

  /**
   * The child for a label set (the same one when asked twice, e.g. by a model version loaded
   * again): resolve once, observe many times. One series per label set, as Prometheus requires.
   */
  child(labels: Readonly<Record<string, string>>): HistogramChild {
    const id = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let c = this.byLabels.get(id);
    if (!c) {
      c = new HistogramChild(labels, this.bounds);
      this.byLabels.set(id, c);
      this.children.push(c);
    }
    return c;
  }

  /** Every child, for readers in this process (the live statistics). */
  all(): readonly HistogramChild[] {
    return this.children;
  }

  /** The upper bounds of the finite buckets (the last count is +Inf). */
  get upperBounds(): Float64Array {
    return this.bounds;
  }

  /** The shape prom-client's Registry renders. */
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const c of this.children) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += c.counts[i]!;
        values.push({
          value: cumulative,
          labels: { ...c.labels, le: this.bounds[i]! },
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({ value: c.count, labels: { ...c.labels, le: '+Inf' }, metricName: `${this.name}_bucket` });
      values.push({ value: c.sum, labels: { ...c.labels }, metricName: `${this.name}_sum` });
      values.push({ value: c.count, labels: { ...c.labels }, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const c of this.children) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
}
