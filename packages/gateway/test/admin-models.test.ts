// The model lifecycle admin API over real HTTP: auth, load (and a rejected load), routing,
// rollback, unload, and the errors each one gives.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../src/index.js';
import { churnDir, parity, repoRoot } from './helpers.js';

const TOKEN = 'open sesame';
const auth = { authorization: `Bearer ${TOKEN}` };
let root: string;
let gateway: Gateway;
let url: string;

function addVersion(v: string, edit: (dir: string) => void = () => {}): void {
  const dir = join(root, 'churn', v);
  mkdirSync(dir, { recursive: true });
  for (const f of ['model.onnx', 'model.json', 'parity.json']) copyFileSync(join(churnDir(), f), join(dir, f));
  edit(dir);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ortline-admin-'));
  addVersion('1');
  addVersion('2');
  writeFileSync(join(root, 'churn', 'serving.json'), '{"active": "1"}');
  gateway = await startGateway({
    overrides: { host: '127.0.0.1', port: 0, modelsDir: root, admin: { token: TOKEN }, log: { level: 'silent' } },
  });
  url = gateway.url;
});
afterAll(async () => {
  await gateway?.close();
  rmSync(root, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: r.status, headers: r.headers, body: (await r.json()) as any };
}

const predictVersion = async () => {
  const r = await fetch(`${url}/v1/models/churn/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(parity().rows[0]!.features),
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { model_version: string }).model_version;
};

describe('admin auth', () => {
  it('401 without a token, with a wrong one, or another scheme; constant answer shape', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Basic ${TOKEN}` }] as Record<
      string,
      string
    >[]) {
      const r = await call('GET', '/admin/v1/models/churn', undefined, headers);
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHORIZED');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await call('GET', '/admin/v1/models/churn', undefined, { authorization: `bearer ${TOKEN}` })).status).toBe(
      200,
    );
  });

  it('403 ADMIN_DISABLED on every lifecycle route when no token is configured', async () => {
    const plain = await startGateway({
      overrides: { host: '127.0.0.1', port: 0, modelsDir: root, log: { level: 'silent' } },
    });
    try {
      for (const [method, path] of [
        ['GET', '/admin/v1/models'],
        ['GET', '/admin/v1/models/churn'],
        ['POST', '/admin/v1/models/churn/versions/2/load'],
        ['DELETE', '/admin/v1/models/churn/versions/2'],
        ['PUT', '/admin/v1/models/churn/routing'],
        ['POST', '/admin/v1/models/churn/rollback'],
      ]) {
        const r = await fetch(`${plain.url}${path}`, { method, headers: auth });
        expect(r.status, `${method} ${path}`).toBe(403);
        expect(((await r.json()) as any).error.code).toBe('ADMIN_DISABLED');
      }
      // Unusable without a token, so not in the API document either.
      const doc = (await (await fetch(`${plain.url}/openapi.json`)).json()) as any;
      expect(Object.keys(doc.paths).filter((p) => p.startsWith('/admin'))).toEqual([]);
      expect(doc.components.securitySchemes).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});

describe('the lifecycle over HTTP', () => {
  it('GET describes routing and versions; unknown models are 404', async () => {
    const r = await call('GET', '/admin/v1/models/churn');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      name: 'churn',
      routing: { active: '1', previous: null, canary: null, shadow: null },
      versions: [
        { version: '1', state: 'ready' },
        { version: '2', state: 'ready' },
      ],
    });
    expect((await call('GET', '/admin/v1/models')).body.models.map((m: any) => m.name)).toEqual(['churn']);
    expect((await call('GET', '/admin/v1/models/nope')).body.error.code).toBe('MODEL_NOT_FOUND');
  });

  it('/openapi.json documents every admin route, its body and its errors when a token is set', async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as any;
    expect(doc.paths['/admin/v1/models/{name}/routing'].put.responses).toHaveProperty('422');
    expect(doc.paths['/admin/v1/models/{name}/versions/{version}/load'].post.responses).toHaveProperty('422');
    expect(doc.paths['/admin/v1/models/{name}/versions/{version}'].delete.responses).toHaveProperty('409');
    expect(doc.paths['/admin/v1/models/{name}/rollback'].post.responses).toHaveProperty('409');
    expect(doc.components.schemas.ModelState.properties.versions.items.properties.reason.enum).toContain(
      'parity_failed',
    );
  });

  it('load a version copied in while serving; a spoiled one is 422 with the reason and stays failed', async () => {
    addVersion('3');
    const ok = await call('POST', '/admin/v1/models/churn/versions/3/load');
    expect(ok.status).toBe(200);
    expect(ok.body.versions.find((v: any) => v.version === '3')).toMatchObject({ state: 'ready' });

    addVersion('4', (dir) => {
      const p = JSON.parse(readFileSync(join(dir, 'parity.json'), 'utf8'));
      p.rows[0].probability = 1 - p.rows[0].probability;
      writeFileSync(join(dir, 'parity.json'), JSON.stringify(p));
    });
    const bad = await call('POST', '/admin/v1/models/churn/versions/4/load');
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({
      code: 'MODEL_REJECTED',
      details: { version: '4', reason: 'parity_failed' },
    });
    const after = await call('GET', '/admin/v1/models/churn');
    expect(after.body.versions.find((v: any) => v.version === '4')).toMatchObject({
      state: 'failed',
      reason: 'parity_failed',
    });
    const direct = await fetch(`${url}/v1/models/churn/versions/4/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(parity().rows[0]!.features),
    });
    expect(direct.status).toBe(503);
    expect((await call('POST', '/admin/v1/models/churn/versions/9/load')).status).toBe(404);
    // A failed version holds no session: removing it is allowed at once.
    expect((await call('DELETE', '/admin/v1/models/churn/versions/4')).status).toBe(200);
  });

  it('promote, roll back, unload: each answer is the model afterwards, and traffic follows', async () => {
    expect(await predictVersion()).toBe('1');
    const promoted = await call('PUT', '/admin/v1/models/churn/routing', { active: '3' });
    expect(promoted.status).toBe(200);
    expect(promoted.body.routing).toEqual({ active: '3', previous: '1', canary: null, shadow: null });
    expect(await predictVersion()).toBe('3');
    expect(JSON.parse(readFileSync(join(root, 'churn', 'serving.json'), 'utf8')).active).toBe('3');

    const rolled = await call('POST', '/admin/v1/models/churn/rollback');
    expect(rolled.status).toBe(200);
    expect(rolled.body.routing).toEqual({ active: '1', previous: '3', canary: null, shadow: null });
    expect(await predictVersion()).toBe('1');

    expect((await call('DELETE', '/admin/v1/models/churn/versions/1')).body.error.code).toBe('VERSION_IN_USE');
    const canary = await call('PUT', '/admin/v1/models/churn/routing', { canary: { version: 2, weight: 0.2 } });
    expect(canary.body.routing.canary).toEqual({ version: '2', weight: 0.2 });
    expect((await call('DELETE', '/admin/v1/models/churn/versions/2')).status).toBe(409);
    expect((await call('PUT', '/admin/v1/models/churn/routing', { canary: null })).body.routing.canary).toBeNull();

    const gone = await call('DELETE', '/admin/v1/models/churn/versions/3');
    expect(gone.status).toBe(200);
    expect(gone.body.versions.map((v: any) => v.version)).toEqual(['1', '2']);
    const noPrevious = await call('POST', '/admin/v1/models/churn/rollback');
    expect(noPrevious.status).toBe(409);
    expect(noPrevious.body.error.code).toBe('NO_PREVIOUS_VERSION');
  });

  it('/metrics: version states, gate failures by reason, load durations and routing changes', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const value = (series: string) => Number(new RegExp(`^${series} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    expect(value('ortline_model_version_info{model="churn",version="1",state="ready"}')).toBe(1);
    expect(value('ortline_model_version_info{model="churn",version="2",state="ready"}')).toBe(1);
    // Version 3 was unloaded and 4 removed: no series left for them.
    expect(text).not.toMatch(/ortline_model_version_info\{model="churn",version="[34]"/);
    expect(value('ortline_model_gate_failures_total{model="churn",reason="parity_failed"}')).toBe(1);
    expect(value('ortline_model_load_duration_seconds_count{model="churn",outcome="failed"}')).toBe(1);
    // Versions 1 and 2 at start, 3 while serving.
    expect(value('ortline_model_load_duration_seconds_count{model="churn",outcome="ready"}')).toBe(3);
    expect(value('ortline_model_routing_changes_total{model="churn",kind="promote"}')).toBe(1);
    expect(value('ortline_model_routing_changes_total{model="churn",kind="rollback"}')).toBe(1);
    expect(value('ortline_model_routing_changes_total{model="churn",kind="canary"}')).toBe(2);
  });

  it('a routing body that breaks a rule names the field and changes nothing', async () => {
    const before = (await call('GET', '/admin/v1/models/churn')).body.routing;
    const cases: [unknown, number, string, string?][] = [
      ['{"active": ', 400, 'MALFORMED_BODY'],
      [[], 400, 'INVALID_REQUEST'],
      [{}, 400, 'INVALID_REQUEST'],
      [{ active: '01' }, 400, 'INVALID_REQUEST', 'active'],
      [{ active: null }, 400, 'INVALID_REQUEST', 'active'],
      [{ previous: '2' }, 400, 'INVALID_REQUEST', 'previous'],
      [{ canary: { version: '2', weight: 2 } }, 400, 'INVALID_REQUEST', 'canary.weight'],
      [{ canary: { version: '2' } }, 400, 'INVALID_REQUEST', 'canary.weight'],
      [{ shadow: '1' }, 422, 'INVALID_ROUTING'],
      [{ active: '9' }, 404, 'VERSION_NOT_FOUND'],
    ];
    for (const [body, status, code, field] of cases) {
      const r = await call('PUT', '/admin/v1/models/churn/routing', body);
      expect([r.status, r.body.error.code], JSON.stringify(body)).toEqual([status, code]);
      if (field) expect(r.body.error.details.field).toBe(field);
    }
    const text = await fetch(`${url}/admin/v1/models/churn/routing`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'active=2',
    });
    expect(text.status).toBe(415);
    expect((await call('GET', '/admin/v1/models/churn')).body.routing).toEqual(before);
  });

  it("unloading drops the version's L1 entries; a folder re-filled with another model never answers from the old one's cache", async () => {
    const row = JSON.stringify(parity().rows[0]!.features);
    const ask = async () => {
      const r = await fetch(`${url}/v1/models/churn/versions/2/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: row,
      });
      expect(r.status).toBe(200);
      return { cache: r.headers.get('x-ortline-cache'), p: ((await r.json()) as any).churn_probability as number };
    };
    await ask();
    const cached = await ask();
    expect(cached.cache).toBe('l1');
    expect((await call('DELETE', '/admin/v1/models/churn/versions/2')).status).toBe(200);
    // Version 2 becomes the LightGBM model, under the same number.
    for (const f of ['model.onnx', 'model.json', 'parity.json'])
      copyFileSync(join(repoRoot, 'models', 'churn', '2', f), join(root, 'churn', '2', f));
    expect((await call('POST', '/admin/v1/models/churn/versions/2/load')).status).toBe(200);
    const fresh = await ask();
    expect(fresh.cache).toBe('miss');
    expect(Math.abs(fresh.p - cached.p)).toBeGreaterThan(1e-4);
    expect(fresh.p).toBeCloseTo(
      JSON.parse(readFileSync(join(repoRoot, 'models', 'churn', '2', 'parity.json'), 'utf8')).rows[0].probability,
      5,
    );
    // Version 2 was loaded, unloaded and loaded again, and answered each time: still one series
    // per label set, as the exposition format requires.
    const text = await (await fetch(`${url}/metrics`)).text();
    const series = text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.slice(0, l.lastIndexOf(' ')));
    expect(series.filter((name, i) => series.indexOf(name) !== i)).toEqual([]);
  });
});
