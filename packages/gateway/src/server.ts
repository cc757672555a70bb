// The gateway: one uWebSockets.js app, the routes, the model registry, and the way it stops.
//
// Start: listen first (so /healthz answers and /readyz says "loading"), then load and warm every
// model, then report ready. Stop (SIGTERM): stop listening, answer every HTTP request and
// WebSocket frame already received (HTTP answers closing their connection; later frames are
// answered SHUTTING_DOWN), wait for a quiet spell, close the WebSockets with 1001, let the
// batchers drain, free the models, close what is left.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { l2Configured } from './cache/l2.js';
import { CacheTiers } from './cache/tiers.js';
import { resolveConfig } from './config/load.js';
import type { GatewayConfig, GatewayConfigInput } from './config/options.js';
import { type ExchangeContext, sweepSlowBodies } from './http/exchange.js';
import { LoopLag } from './http/pressure.js';
import { createLogger, IdSource, type Logger, requestLogger } from './log.js';
import { createMetrics } from './metrics/index.js';
import { LiveStats, readTotals } from './metrics/live.js';
import { TrafficRecorder } from './predict/traffic.js';
import { ModelRegistry } from './registry/registry.js';
import { mountAdmin } from './routes/admin.js';
import { mountAdminModels } from './routes/admin-models.js';
import { mountConsole } from './routes/console.js';
import { mountDocs } from './routes/docs.js';
import { mountDrift } from './routes/drift.js';
import { LIVE_INTERVAL_MS, mountLive } from './routes/live.js';
import { mountOps } from './routes/ops.js';
import { Router, type ServerParts } from './routes/parts.js';
import { mountStream, type StreamControl } from './routes/stream.js';
import { mountV1 } from './routes/v1.js';
import { mountV2 } from './routes/v2.js';
import { closeApp, type UwsBinding, type us_listen_socket, uWS, uwsBinding } from './uws.js';

import { GATEWAY_VERSION } from './version.js';

export { GATEWAY_VERSION };

// How often bodies still arriving are checked against bodyTimeoutMs.
const SLOW_BODY_SWEEP_MS = 250;

export interface GatewayStartOptions {
  /** A resolved configuration (from `resolveConfig`); else `overrides` on top of the defaults. */
  readonly config?: GatewayConfig;
  readonly overrides?: GatewayConfigInput;
  readonly logger?: Logger;
}

export interface Gateway {
  readonly config: GatewayConfig;
  /** The port actually listened on (useful with port 0). */
  readonly port: number;
  /** `http://<host>:<port>`, with 127.0.0.1 for a wildcard host. */
  readonly url: string;
  readonly binding: UwsBinding;
  readonly registry: ModelRegistry;
  /** The cache tiers, when any is on. */
  readonly cache: CacheTiers | undefined;
  readonly log: Logger;
  /** HTTP requests received and not yet answered. */
  readonly inFlight: number;
  /** The HTTP routes served, as `METHOD /path/{param}` (the WebSocket /v1/stream aside). */
  readonly routes: readonly string[];
  /** Graceful stop; resolves `true` when everything in flight finished within the drain timeout. */
  close(): Promise<boolean>;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export async function startGateway(options: GatewayStartOptions = {}): Promise<Gateway> {
  const config = options.config ?? resolveConfig({ overrides: options.overrides });
  const log = options.logger ?? createLogger(config);

  const binding = uwsBinding();
  if (!binding.native) {
    if (!config.allowUwsFallback) {
      throw new StartupError(
        'uWebSockets.js could not load its native binding for this Node.js build and fell back to a slow JS implementation; set allowUwsFallback to run anyway',
      );
    }
    log.warn('uWebSockets.js native binding not loaded: running on its JS fallback');
  }

  const app = config.tls.cert !== null ? tlsApp(config.tls.cert, config.tls.key!) : uWS.App();
  let registry: ModelRegistry | undefined;
  let stream: StreamControl | undefined;
  let cache: CacheTiers | undefined;
  const metrics = createMetrics({
    enabled: config.metrics.enabled,
    defaultMetrics: config.metrics.defaultMetrics,
    models: () => registry?.all() ?? [],
    versionStates: () => registry?.versionStates() ?? [],
    drift: () => registry?.all() ?? [],
    queueLimitRows: config.batcher.maxQueueRows,
    wsPending: () => stream?.pending() ?? 0,
    cache: () => cache,
    l2: l2Configured({
      url: config.redisUrl,
      cluster: config.cache.l2.cluster,
      redisOptions: config.cache.l2.redisOptions,
    }),
  });
  let traffic: TrafficRecorder | undefined;
  try {
    traffic = await TrafficRecorder.open(config.trafficLog, metrics.trafficLog, log);
  } catch (err) {
    metrics.close();
    throw new StartupError(`trafficLog.dir "${config.trafficLog.dir}" cannot be used: ${(err as Error).message}`);
  }
  cache = CacheTiers.create(config, metrics, log);
  const requestIds = new IdSource(`${randomBytes(4).toString('hex')}-`);
  const loopLag = config.maxEventLoopDelayMs > 0 ? new LoopLag() : undefined;
  loopLag?.start();
  const ctx: ExchangeContext = {
    overloadStatus: Number(config.overloadStatus),
    retryAfter: String(config.retryAfterSeconds),
    maxBodyBytes: config.maxBodyBytes,
    logRequest: requestLogger(config, log),
    logError: (err, ex, client) =>
      log.error(
        {
          err: client.internal ?? err,
          reqId: ex.reqId,
          method: ex.method,
          url: ex.url,
          status: client.status,
          code: client.code,
        },
        'request failed',
      ),
    nextRequestId: () => requestIds.next(),
    draining: false,
    inFlight: 0,
    readingBodies: new Set(),
    bodyTimeoutMs: config.bodyTimeoutMs,
    shedder: {
      lag: loopLag,
      maxEventLoopDelayMs: config.maxEventLoopDelayMs,
      count: (reason) => metrics.shed(reason),
    },
  };
  const live = metrics.live
    ? new LiveStats(() => readTotals(metrics.live!), metrics.live.requests.upperBounds)
    : undefined;
  const parts: ServerParts = {
    app,
    config,
    ctx,
    metrics,
    log,
    version: GATEWAY_VERSION,
    registry: undefined,
    ready: false,
    cache,
    traffic,
    live,
    consoleAssets: [],
  };

  const router = new Router(parts);
  mountV1(router, parts);
  mountDrift(router, parts);
  mountV2(router, parts);
  mountOps(router, parts);
  mountDocs(router, parts);
  mountConsole(router, parts);
  mountLive(router, parts);
  mountAdmin(router, parts);
  mountAdminModels(router, parts);
  stream = mountStream(parts);
  router.finish(parts);

  let listenSocket: us_listen_socket;
  try {
    listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
      app.listen(config.host, config.port, (socket) => {
        if (socket) resolve(socket);
        else
          reject(
            new StartupError(`cannot listen on ${config.host}:${config.port} (in use, or not an address of this host)`),
          );
      });
    });
  } catch (err) {
    metrics.close();
    await cache?.close();
    await traffic?.close();
    throw err;
  }
  const port = uWS.us_socket_local_port(listenSocket as never);
  const url = `${config.tls.cert !== null ? 'https' : 'http'}://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${port}`;
  log.info({ host: config.host, port, native: binding.native, version: GATEWAY_VERSION }, 'listening');

  try {
    registry = await ModelRegistry.load(config, metrics, log, cache);
  } catch (err) {
    uWS.us_listen_socket_close(listenSocket);
    closeApp(app);
    metrics.close();
    await cache?.close();
    await traffic?.close();
    throw err;
  }
  parts.registry = registry;
  parts.ready = registry.ready;
  log.info({ url, models: registry.names() }, 'ready');
  // A sample a second, off the request path; unref'd so it never keeps the process alive.
  live?.sample();
  const liveTimer = live ? setInterval(() => live.sample(), LIVE_INTERVAL_MS).unref() : undefined;
  const slowBodyTimer = setInterval(() => sweepSlowBodies(ctx), SLOW_BODY_SWEEP_MS).unref();

  let closing: Promise<boolean> | undefined;
  const gateway: Gateway = {
    config,
    port,
    url,
    binding,
    registry,
    cache,
    log,
    routes: router.routes(),
    get inFlight() {
      return ctx.inFlight;
    },
    close() {
      clearInterval(liveTimer);
      clearInterval(slowBodyTimer);
      loopLag?.stop();
      closing ??= shutdown(app, listenSocket, parts, stream!, registry!, config.shutdown.drainTimeoutMs);
      return closing;
    },
  };
  return gateway;
}

/** An HTTPS app on the PEM files: read once here, so a missing or unreadable file is named at start. */
function tlsApp(cert: string, key: string): ReturnType<typeof uWS.App> {
  for (const [what, file] of [
    ['tls.cert', cert],
    ['tls.key', key],
  ] as const) {
    try {
      if (!readFileSync(file, 'utf8').includes('-----BEGIN ')) throw new Error('not a PEM file');
    } catch (err) {
      throw new StartupError(`${what} "${file}" cannot be used: ${(err as Error).message}`);
    }
  }
  return uWS.SSLApp({ cert_file_name: cert, key_file_name: key });
}

async function shutdown(
  app: ReturnType<typeof uWS.App>,
  listenSocket: us_listen_socket,
  parts: ServerParts,
  stream: StreamControl,
  registry: ModelRegistry,
  timeoutMs: number,
): Promise<boolean> {
  const { ctx, log } = parts;
  const started = performance.now();
  parts.ready = false;
  ctx.draining = true;
  uWS.us_listen_socket_close(listenSocket);
  stream.stopAccepting();
  log.info({ inFlight: ctx.inFlight, wsInFlight: stream.inFlight() }, 'draining: stopped accepting connections');

  // In flight: HTTP requests received and WebSocket frames not yet answered. Requests that still
  // arrive on open keep-alive connections are served too, each answer closing its connection;
  // wait for a short quiet spell so the last of those are not cut off.
  const deadline = started + timeoutMs;
  let quietSince = -1;
  let drained = false;
  while (performance.now() < deadline) {
    if (ctx.inFlight === 0 && stream.inFlight() === 0) {
      if (quietSince < 0) quietSince = performance.now();
      if (performance.now() - quietSince >= 100) {
        drained = true;
        break;
      }
    } else {
      quietSince = -1;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!drained) log.error({ inFlight: ctx.inFlight, wsInFlight: stream.inFlight(), timeoutMs }, 'drain timed out');
  // WebSockets: every frame is answered; say goodbye and give the close handshake a moment.
  stream.endAll();
  for (let i = 0; i < 50 && stream.connections.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
  await registry.close();
  await parts.cache?.close();
  // After the registry: the last shadow rows have been scored and queued.
  await parts.traffic?.close();
  closeApp(app);
  parts.metrics.close();
  log.info({ drained, ms: Math.round(performance.now() - started) }, 'stopped');
  return drained;
}
