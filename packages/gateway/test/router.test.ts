// The router's safety net, on a real uWebSockets.js app on loopback: a route handler that throws
// (before or after opening its exchange) is answered 500 INTERNAL with the error body, the error
// is logged once, and the server goes on answering.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeContext } from '../src/http/exchange.js';
import { Exchange } from '../src/http/exchange.js';
import { createMetrics } from '../src/metrics/index.js';
import { Router, type ServerParts } from '../src/routes/parts.js';
import { closeApp, type us_listen_socket, uWS } from '../src/uws.js';

const logged: unknown[] = [];
const app = uWS.App();
let socket: us_listen_socket;
let url: string;

beforeAll(async () => {
  const metrics = createMetrics({ enabled: true, defaultMetrics: false, models: () => [], wsPending: () => 0 });
  const ctx: ExchangeContext = {
    overloadStatus: 503,
    retryAfter: '1',
    maxBodyBytes: 1024,
    logRequest: undefined,
    logError: (err) => logged.push(err),
    nextRequestId: () => 'req-1',
    draining: false,
    inFlight: 0,
    readingBodies: new Set(),
    bodyTimeoutMs: 8000,
    shedder: { lag: undefined, maxEventLoopDelayMs: 0, count() {} },
  };
  const parts = { app, ctx, metrics } as unknown as ServerParts;
  const router = new Router(parts);
  const route = metrics.route('test');
  router.get('/throws-first', () => {
    throw new Error('before any exchange');
  });
  router.get('/throws-later', (res, req) => {
    new Exchange(res, req, ctx, route, false);
    throw new TypeError('after the exchange opened');
  });
  router.get('/answers-then-throws', (res, req) => {
    new Exchange(res, req, ctx, route, false).sendJson(200, '{"ok":true}');
    throw new Error('after answering');
  });
  router.get('/fine', (res, req) => new Exchange(res, req, ctx, route, false).sendJson(200, '{"ok":true}'));
  router.finish(parts);
  socket = await new Promise((resolve, reject) =>
    app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('no port')))),
  );
  url = `http://127.0.0.1:${uWS.us_socket_local_port(socket as never)}`;
});
afterAll(() => {
  uWS.us_listen_socket_close(socket);
  closeApp(app);
});

describe('a route handler that throws', () => {
  it.each(['/throws-first', '/throws-later'])(
    '%s: 500 INTERNAL, logged, and the next request is served',
    async (path) => {
      logged.length = 0;
      const r = await fetch(url + path);
      expect(r.status).toBe(500);
      expect(await r.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error', details: {} } });
      expect(r.headers.get('x-request-id')).toBe('req-1');
      expect(logged).toHaveLength(1);
      expect((await fetch(`${url}/fine`)).status).toBe(200);
    },
  );

  it('that already answered: the answer stands, nothing written twice', async () => {
    const r = await fetch(`${url}/answers-then-throws`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true });
    expect((await fetch(`${url}/fine`)).status).toBe(200);
  });
});
