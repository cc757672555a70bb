// The metric handles each part of the gateway records into, and the label values they share.
// Names carry their unit; per-model series carry {model, version}.
import type { WindowSnapshot } from '@ortline/monitor';
import type { BreakerState } from '../cache/breaker.js';
import type { ShedReason } from '../http/pressure.js';
import type { LiveInstruments } from './live.js';

/** Label values of one model version, created once when it is loaded. */
export interface ModelLabels {
  readonly model: string;
  readonly version: string;
}

/** Requests that name no known model are labelled with this, so clients cannot mint series. */
export const NO_MODEL: ModelLabels = Object.freeze({ model: '', version: '' });

export interface RouteMetric {
  observe(labels: ModelLabels, status: number, seconds: number): void;
}

export type BatchMetric = (rows: number, durationMs: number) => void;
/** Rows taken out of a model version's queue before their run: their deadline passed, or their client left. */
export type DropMetric = (reason: 'deadline' | 'cancelled', rows: number) => void;

export interface ModelGaugeSource {
  readonly labels: ModelLabels;
  readonly ready: boolean;
  readonly queueRows: number;
  readonly inFlight: number;
  /** Native runs so far: on the calling thread (inline) and on the worker pool. */
  readonly runs: { readonly inline: number; readonly pool: number };
}

/** The cache stage of one model version. Counts are rows (one row = one prediction). */
export interface CacheMetric {
  /** One request through L1: rows that hit and missed, and the time of the L1 stage (validate, key, look up). */
  l1(hits: number, misses: number, seconds: number): void;
  /** L2's answer for this model version's rows in one lookup. */
  l2(hits: number, misses: number): void;
  /** Rows that did not ask L2: its breaker is open, or the client is not connected. */
  l2Skipped(rows: number, reason: L2SkipReason): void;
  /** A request that opted out (`Cache-Control: no-cache | no-store`, or the WebSocket flag). */
  bypass(directive: 'no-cache' | 'no-store'): void;
}

export type L2SkipReason = 'breaker_open' | 'not_connected';
export type L2Op = 'lookup' | 'store' | 'flush';
export type L2ErrorReason = 'timeout' | 'error' | 'not_connected' | 'backlog';

/** The Redis tier, shared by all model versions. */
export interface L2Metric {
  /** One MGET: time until the batch moved on (its answer, its error, or the budget). */
  lookup(seconds: number): void;
  error(op: L2Op, reason: L2ErrorReason): void;
  breaker(to: BreakerState): void;
}

/** What the cache gauges read at scrape time. */
export interface CacheGaugeSource {
  readonly l1Entries: number;
  readonly l1Bytes: number;
  /** Undefined when there is no L2. */
  readonly l2Connected: boolean | undefined;
  readonly breaker: BreakerState | undefined;
}

/** One model version's lifecycle state, read at scrape time. */
export interface VersionStateSource {
  readonly model: string;
  readonly version: string;
  readonly state: string;
}

/** How a version came to score a row: the routing's active version or canary, named by the request, or its shadow. */
export type PredictionRoute = 'active' | 'canary' | 'pinned' | 'shadow';

/** Predictions answered by one version, per route that chose it. */
export type PredictionMetric = Readonly<Record<PredictionRoute, (rows: number) => void>>;

/** Shadow rows of one shadow version: compared with the live answer, or dropped (and why). */
export interface ShadowMetric {
  scored(rows: number, absDiffSum: number, disagreements: number): void;
  dropped(rows: number, reason: 'busy' | 'full' | 'error' | 'unloaded'): void;
}

/** One model version's drift window, read at scrape time (null: drift is not watched for it). */
export interface DriftSource {
  readonly labels: ModelLabels;
  readonly drift: { snapshot(): WindowSnapshot } | null;
}

/** Predicted probabilities of one model version, as they are answered: their histogram and risk categories. */
export type OutcomeMetric = (scores: Float64Array) => void;

/** A model version's risk categories: their names, and the index of a probability's category. */
export interface RiskBanding {
  readonly categories: readonly string[];
  band(p: number): number;
}

/** Rows of the traffic log. */
export interface TrafficLogMetric {
  written(rows: number): void;
  dropped(rows: number, reason: 'full' | 'error'): void;
}

export type RoutingChangeKind = 'promote' | 'rollback' | 'canary' | 'shadow';

export interface LifecycleMetric {
  loaded(model: string, seconds: number): void;
  rejected(model: string, reason: string, seconds: number): void;
  routed(model: string, kind: RoutingChangeKind): void;
}

export interface Metrics {
  readonly enabled: boolean;
  readonly contentType: string;
  route(name: string): RouteMetric;
  batch(labels: ModelLabels): BatchMetric;
  dropped(labels: ModelLabels): DropMetric;
  cache(labels: ModelLabels): CacheMetric;
  predictions(labels: ModelLabels): PredictionMetric;
  shadow(labels: ModelLabels): ShadowMetric;
  outcomes(labels: ModelLabels, risk: RiskBanding): OutcomeMetric;
  readonly trafficLog: TrafficLogMetric;
  readonly lifecycle: LifecycleMetric;
  readonly l2: L2Metric;
  wsConnections(delta: number): void;
  /** A scoring request refused before its body was parsed (http/pressure.ts), by reason. */
  shed(reason: ShedReason): void;
  /** The instruments the live statistics read (metrics/live.ts); undefined when metrics are off. */
  readonly live: LiveInstruments | undefined;
  render(): Promise<string>;
  close(): void;
}
