// The lifecycle under continuous load, against the built gateway in its own process: HTTP clients
// and WebSocket streams score all the time while version 2 (LightGBM) is loaded, canaried at 50 %,
// promoted, rolled back and unloaded, 20 times over. Every request and frame must be answered 200,
// and every answer must come from a version that was routable at some moment between the request
// and its answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bundledChurn, type Child, parity, startChildOn } from './helpers.js';

const TOKEN = 'lifecycle-load';
const CYCLES = 20;
const rows = parity().rows;
let child: Child;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ child, stop } = await startChildOn(
    { '1': bundledChurn('1'), '2': bundledChurn('2') },
    { active: '1' },
    { ORTLINE_ADMIN_TOKEN: TOKEN },
  ));
});
afterAll(() => stop?.());

interface Answer {
  sent: number;
  received: number;
  status: number;
  version: string | undefined;
}

/** When each version could answer: [from, to] in performance.now() time, open intervals while still routable. */
class Routable {
  private readonly spans = new Map<string, [number, number][]>();
  open(version: string, at: number): void {
    const list = this.spans.get(version) ?? [];
    list.push([at, Number.POSITIVE_INFINITY]);
    this.spans.set(version, list);
  }
  close(version: string, at: number): void {
    const last = this.spans.get(version)?.at(-1);
    if (last && last[1] === Number.POSITIVE_INFINITY) last[1] = at;
  }
  /** Whether `version` was routable at some moment of [sent, received]. */
  covers(version: string, sent: number, received: number): boolean {
    return (this.spans.get(version) ?? []).some(([from, to]) => from <= received && to >= sent);
  }
}

async function admin(method: string, path: string, body?: unknown): Promise<void> {
  const r = await fetch(`${child.url}/admin/v1/models/churn${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${text}`);
}

describe('the lifecycle under load', () => {
  it(`load, canary 50 %, promote, roll back, unload, ${CYCLES} times: every request and frame answered 200 by a routable version`, async () => {
    const http: Answer[] = [];
    const frames: Answer[] = [];
    let running = true;
    let n = 0;
    const record = () => {
      const row = rows[n % rows.length]!;
      n++;
      return { customer_id: `c-${n}`, ...row.features };
    };

    const httpClient = async () => {
      while (running) {
        const sent = performance.now();
        const r = await fetch(`${child.url}/v1/models/churn/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(record()),
        });
        const j = (await r.json()) as { model_version?: string };
        http.push({ sent, received: performance.now(), status: r.status, version: j.model_version });
      }
    };

    const wsClient = async () => {
      const ws = new WebSocket(`${child.url.replace('http', 'ws')}/v1/stream?model=churn`);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const pending = new Map<number, number>();
      let next = 0;
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      const send = () => {
        const id = next++;
        pending.set(id, performance.now());
        ws.send(JSON.stringify({ id, record: record() }));
      };
      ws.on('message', (data) => {
        const a = JSON.parse(String(data)) as { id: number; status?: number; prediction?: { model_version: string } };
        frames.push({
          sent: pending.get(a.id)!,
          received: performance.now(),
          status: a.status ?? 200,
          version: a.prediction?.model_version,
        });
        pending.delete(a.id);
        if (running) send();
        else if (pending.size === 0) done();
      });
      // Eight frames in flight per connection.
      for (let i = 0; i < 8; i++) send();
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (!running) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      });
      if (pending.size > 0) await finished;
      ws.close();
      return next;
    };

    const routable = new Routable();
    routable.open('1', 0);
    const clients = [...Array.from({ length: 6 }, () => httpClient().then(() => 0)), wsClient(), wsClient()];
    // Let the load settle before the first change.
    await new Promise((r) => setTimeout(r, 100));
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      await admin('POST', '/versions/2/load');
      let at = performance.now();
      routable.open('2', at);
      await admin('PUT', '/routing', { canary: { version: '2', weight: 0.5 } });
      await admin('PUT', '/routing', { active: '2' });
      // Version 1 is unroutable only once the promotion has been applied, i.e. by the answer.
      routable.close('1', performance.now());
      at = performance.now();
      routable.open('1', at);
      await admin('POST', '/rollback');
      routable.close('2', performance.now());
      await admin('DELETE', '/versions/2');
    }
    running = false;
    const sentFrames = (await Promise.all(clients)).reduce((a, b) => a + b, 0);

    expect(http.length).toBeGreaterThan(200);
    expect(frames.length).toBe(sentFrames);
    for (const [kind, answers] of [
      ['http', http],
      ['ws', frames],
    ] as const) {
      const bad = answers.filter((a) => a.status !== 200 || a.version === undefined);
      expect(bad.slice(0, 5), `${kind}: non-200 answers`).toEqual([]);
      const unroutable = answers.filter((a) => !routable.covers(a.version!, a.sent, a.received));
      expect(unroutable.slice(0, 5), `${kind}: answers from a version not routable then`).toEqual([]);
      // Both versions answered while the load ran.
      expect(new Set(answers.map((a) => a.version))).toEqual(new Set(['1', '2']));
    }
    const state = (await (
      await fetch(`${child.url}/admin/v1/models/churn`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { routing: { active: string }; versions: { version: string }[] };
    expect(state.routing.active).toBe('1');
    expect(state.versions.map((v) => v.version)).toEqual(['1']);
  }, 180_000);
});
