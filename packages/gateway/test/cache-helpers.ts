// Shared by the cache tests: a model repository with two churn versions that answer differently,
// gateways started against a Redis, distinct records, and reading /metrics.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Gateway, type GatewayConfigInput, startGateway } from '../src/index.js';
import { churnDir, parity } from './helpers.js';

/**
 * churn/1: the repository's churn model. churn/2: the same ONNX file with a model card that reads
 * the other probability column (P(stay) = 1 - P(churn)), so a stale answer from version 1 would
 * show. ACTIVE names `active`.
 */
export function twoVersionRepo(active: '1' | '2' = '1'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ortline-cache-models-'));
  mkdirSync(join(dir, 'churn', '2'), { recursive: true });
  symlinkSync(churnDir(), join(dir, 'churn', '1'));
  symlinkSync(join(churnDir(), 'model.onnx'), join(dir, 'churn', '2', 'model.onnx'));
  const card = JSON.parse(readFileSync(join(churnDir(), 'model.json'), 'utf8'));
  card.version = '2';
  card.output = { ...card.output, index: 0 };
  writeFileSync(join(dir, 'churn', '2', 'model.json'), JSON.stringify(card));
  writeFileSync(join(dir, 'churn', 'ACTIVE'), `${active}\n`);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function gatewayOn(modelsDir: string, overrides: GatewayConfigInput = {}): Promise<Gateway> {
  return startGateway({
    overrides: {
      host: '127.0.0.1',
      port: 0,
      modelsDir,
      ...overrides,
      log: { level: 'silent', ...(overrides.log ?? {}) },
    },
  });
}

const base = parity().rows[0]!.features as Record<string, unknown>;
let counter = 0;
/**
 * A valid churn record no other call in this process returns (tenure: an integer >= 0 without
 * upper bound; kept far below 2^24, where float32, the model's input type, still tells integers
 * apart: above it two tenures can be the same model input, hence the same cache key).
 */
export function freshRecord(): Record<string, unknown> {
  return { ...base, tenure: 1000 + ++counter };
}

export interface Answer {
  status: number;
  cache: string | null;
  body: any;
  ms: number;
}

export async function predict(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  path = '/v1/models/churn/predict',
): Promise<Answer> {
  const t0 = performance.now();
  const r = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: r.status, cache: r.headers.get('x-ortline-cache'), body: json, ms: performance.now() - t0 };
}

/** Sum of the samples of `name` whose labels include every one in `labels`. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z0-9_:]+)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      sum += Number(m[4]);
      found = true;
    }
  }
  return found ? sum : NaN;
}

export async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** Polls `check` every 25 ms until it returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}
