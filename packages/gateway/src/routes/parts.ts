// What route modules share, and the router wrapper that turns the table of (method, pattern)
// into uWebSockets.js handlers plus 405 (with Allow) for known paths and 404 for the rest.
import type { CacheTiers } from '../cache/tiers.js';
import type { GatewayConfig } from '../config/options.js';
import { GatewayError } from '../errors.js';
import { Exchange, type ExchangeContext, opened } from '../http/exchange.js';
import type { Logger } from '../log.js';
import type { Metrics, RouteMetric } from '../metrics/index.js';
import type { LiveStats } from '../metrics/live.js';
import type { TrafficRecorder } from '../predict/traffic.js';
import type { ModelVersion } from '../registry/model-version.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../uws.js';

export interface ServerParts {
  readonly app: TemplatedApp;
  readonly config: GatewayConfig;
  readonly ctx: ExchangeContext;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly version: string;
  /** Undefined while models are loading. */
  registry: ModelRegistry | undefined;
  /** True once every model version is loaded and warmed, until shutdown starts. */
  ready: boolean;
  /** The cache tiers, when any is on (for the admin flush). */
  readonly cache: CacheTiers | undefined;
  /** The traffic log, when it samples anything. */
  readonly traffic: TrafficRecorder | undefined;
  /** The live statistics, when metrics are on. */
  readonly live: LiveStats | undefined;
  /** The console's asset file names (GET /assets/{file}), once it is mounted and built. */
  consoleAssets: readonly string[];
}

type Method = 'get' | 'post' | 'put' | 'del';
type Handler = (res: HttpResponse, req: HttpRequest) => void;

export class Router {
  private readonly app: TemplatedApp;
  private readonly parts: ServerParts;
  private readonly allowed = new Map<string, Set<string>>();
  private unhandled: RouteMetric | undefined;
  constructor(parts: ServerParts) {
    this.app = parts.app;
    this.parts = parts;
  }

  get(pattern: string, handler: Handler): this {
    return this.on('get', pattern, handler);
  }
  post(pattern: string, handler: Handler): this {
    return this.on('post', pattern, handler);
  }
  put(pattern: string, handler: Handler): this {
    return this.on('put', pattern, handler);
  }
  del(pattern: string, handler: Handler): this {
    return this.on('del', pattern, handler);
  }

  private on(method: Method, pattern: string, handler: Handler): this {
    this.app[method](pattern, (res, req) => {
      opened.last = undefined;
      try {
        handler(res, req);
      } catch (err) {
        this.rescue(res, req, err);
      }
    });
    let set = this.allowed.get(pattern);
    if (!set) {
      set = new Set();
      this.allowed.set(pattern, set);
    }
    set.add(method === 'del' ? 'DELETE' : method.toUpperCase());
    return this;
  }

  /** A handler threw: answer 500 INTERNAL (logged with the error) unless it already answered. */
  private rescue(res: HttpResponse, req: HttpRequest, err: unknown): void {
    let ex = opened.last;
    if (ex === undefined || ex.res !== res) {
      this.unhandled ??= this.parts.metrics.route('unhandled');
      ex = new Exchange(res, req, this.parts.ctx, this.unhandled, false);
    }
    ex.fail(err);
  }

  /** Every route as `METHOD /path/{param}` (OpenAPI's spelling of a path). */
  routes(): string[] {
    const out: string[] = [];
    for (const [pattern, methods] of this.allowed) {
      const path = pattern.replace(/:([A-Za-z_]+)/g, '{$1}');
      for (const m of methods) out.push(`${m} ${path}`);
    }
    return out.sort();
  }

  /** Registers 405 for every known pattern and 404 for everything else; call last. */
  finish(parts: ServerParts): void {
    const route405 = parts.metrics.route('method_not_allowed');
    for (const [pattern, methods] of this.allowed) {
      const allow = [...methods].join(', ');
      const headers = ['allow', allow];
      // uWebSockets.js prefers a method's own handler over `any` on the same pattern.
      this.app.any(pattern, (res, req) => {
        const ex = new Exchange(res, req, parts.ctx, route405, false);
        ex.fail(
          new GatewayError(
            'METHOD_NOT_ALLOWED',
            `${req.getCaseSensitiveMethod()} is not allowed on ${req.getUrl()}; allowed: ${allow}`,
            { allow: [...methods] },
          ),
          false,
          undefined,
          headers,
        );
      });
    }
    const route404 = parts.metrics.route('not_found');
    this.app.any('/*', (res, req) => {
      const ex = new Exchange(res, req, parts.ctx, route404, false);
      ex.fail(
        new GatewayError('ROUTE_NOT_FOUND', `no endpoint ${req.getCaseSensitiveMethod()} ${req.getUrl()}`, {
          method: req.getCaseSensitiveMethod(),
          path: req.getUrl(),
        }),
      );
    });
  }
}

/**
 * The model version a request is for, or undefined after answering 404 or 503. Sets the
 * exchange's metric labels.
 */
export function resolveModel(
  parts: ServerParts,
  ex: Exchange,
  name: string,
  version: string,
): ModelVersion | undefined {
  const registry = parts.registry;
  if (registry === undefined) {
    ex.fail(new GatewayError('MODEL_NOT_READY', 'models are still loading'));
    return undefined;
  }
  let mv: ModelVersion;
  try {
    mv = registry.resolve(name, version);
  } catch (err) {
    ex.fail(err);
    return undefined;
  }
  ex.labels = mv.labels;
  ex.model = mv;
  ex.pinned = version === '' ? '' : mv.version;
  if (!mv.ready) {
    ex.fail(
      new GatewayError('MODEL_NOT_READY', `model "${mv.name}" version ${mv.version} is not ready`, {
        model: mv.name,
        version: mv.version,
      }),
    );
    return undefined;
  }
  return mv;
}

export type { RouteMetric };
