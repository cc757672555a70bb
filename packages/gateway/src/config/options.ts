// Every option of the gateway, its default and its documentation, in one table. The config
// loader validates against it, the CLI derives its flags from it, and CONFIG.md is generated from
// it: nothing about an option is written down twice.

export type OptionType =
  | 'string'
  | 'nullable-string'
  | 'port'
  | 'int'
  | 'number'
  | 'boolean'
  | 'enum'
  | 'string-list'
  | 'object';

export interface OptionSpec {
  /** Dotted path in the config object (and the config file), e.g. `batcher.maxBatchRows`. */
  readonly key: string;
  readonly type: OptionType;
  readonly default: unknown;
  readonly doc: string;
  /** Environment variable that sets it, if any. */
  readonly env?: string;
  /** CLI flag that sets it; every option has one, derived from the key unless given. */
  readonly flag?: string;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
}

export const OPTIONS: readonly OptionSpec[] = [
  // Listening
  { key: 'host', type: 'string', default: '0.0.0.0', env: 'HOST', doc: 'Address to listen on.' },
  {
    key: 'port',
    type: 'port',
    default: 8080,
    env: 'PORT',
    doc: 'TCP port to listen on; 0 picks a free port (logged at start).',
  },
  {
    key: 'tls.cert',
    type: 'nullable-string',
    default: null,
    env: 'ORTLINE_TLS_CERT',
    doc: 'PEM certificate (chain) file: with `tls.key`, the gateway serves HTTPS and WSS only (uWebSockets.js SSLApp, OpenSSL). Both or neither.',
  },
  {
    key: 'tls.key',
    type: 'nullable-string',
    default: null,
    env: 'ORTLINE_TLS_KEY',
    doc: 'PEM private key file of `tls.cert` (unencrypted; mount it from a secret).',
  },

  // Models
  {
    key: 'modelsDir',
    type: 'string',
    default: 'models',
    env: 'MODELS_DIR',
    doc: "Model repository: `<dir>/<name>/<version>/{model.onnx, model.json}`. Every version of every model is loaded at start and must pass its gate (parity rows, warm-up) before it takes traffic; which versions answer is `<dir>/<name>/serving.json` (else the older `ACTIVE` file, else the highest number). Relative paths resolve against the working directory; the default `models`, when the working directory has none, means the repository's bundled models/.",
  },
  {
    key: 'models.control',
    type: 'enum',
    default: 'explicit',
    values: ['none', 'explicit', 'poll'],
    doc: "How versions change while serving (Triton's names). `explicit`: only through the admin API (load, unload). `none`: never; the admin API may still change routing but refuses load and unload (409 MODEL_CONTROL_DISABLED). `poll`: the admin API, and the repository is watched: a version folder that appears is loaded once its `model.onnx` and `model.json` are there and unchanged for `models.pollSettleMs`, one that vanishes is unloaded (unless it takes traffic). In every mode the versions present at start are loaded.",
  },
  {
    key: 'models.pollIntervalMs',
    type: 'int',
    default: 2000,
    min: 10,
    doc: 'With `models.control` poll: how often the repository is scanned.',
  },
  {
    key: 'models.pollSettleMs',
    type: 'int',
    default: 1000,
    min: 0,
    doc: "With `models.control` poll: how long a new version folder's files must stay unchanged (size and modification time) before it is loaded, so a copy in progress is never loaded half-written.",
  },
  {
    key: 'warmup',
    type: 'boolean',
    default: true,
    doc: 'Score one synthetic row per model version before reporting ready, so the first request does not pay for lazy initialisation.',
  },
  {
    key: 'passthroughFields',
    type: 'string-list',
    default: ['customer_id', 'customerID'],
    doc: "Record fields that are ids, not features, for every model (besides each model card's own `answer.id_field`): accepted, never sent to the model. The first one present is echoed in v1 answers under the card's `answer.id_field`.",
  },

  // Request limits
  {
    key: 'maxBodyBytes',
    type: 'int',
    default: 16 * 1024 * 1024,
    min: 1024,
    doc: 'Largest HTTP request body; larger ones get 413 BODY_TOO_LARGE before being read.',
  },
  {
    key: 'maxInstances',
    type: 'int',
    default: 10_000,
    min: 1,
    doc: 'Most records in one v1 `instances` request (or WebSocket frame); more gets 413 TOO_MANY_INSTANCES.',
  },
  {
    key: 'bodyTimeoutMs',
    type: 'int',
    default: 8000,
    min: 100,
    max: 9000,
    doc: 'Longest a request body may take to arrive; a slower one gets 408 REQUEST_TIMEOUT and its connection closed. At most 9 s: uWebSockets.js closes a connection 10 s into a request that has not been answered.',
  },
  {
    key: 'requestTimeoutMs',
    type: 'int',
    default: 10_000,
    min: 0,
    max: 3_600_000,
    doc: "Deadline of a scoring request, from its arrival, unless it sets a shorter one (`x-request-timeout-ms`, OIP `parameters.timeout`, a WebSocket frame's `timeout_ms`). Rows still queued when it passes are never run: the request gets 504 DEADLINE_EXCEEDED. 0: no default deadline.",
  },

  // Micro-batching (per model version, passed to the scorer's Batcher)
  {
    key: 'batcher.maxBatchRows',
    type: 'int',
    default: 1024,
    min: 1,
    doc: 'Most rows in one native run. A single request with more rows runs alone.',
  },
  {
    key: 'batcher.maxQueueRows',
    type: 'int',
    default: 65_536,
    min: 1,
    doc: 'Most rows waiting per model version; past it requests are refused with QUEUE_FULL (see `overloadStatus`).',
  },
  {
    key: 'batcher.maxQueueMs',
    type: 'number',
    default: 1000,
    min: 0,
    doc: "Most time a request may be expected to wait before its rows run, estimated from the model version's recent runs; past it requests are refused at once with QUEUE_FULL rather than queueing into timeouts (and past a request's own deadline, with DEADLINE_EXCEEDED). 0: refuse by queue length only.",
  },
  {
    key: 'batcher.maxWaitMs',
    type: 'number',
    default: 0,
    min: 0,
    doc: '0: continuous batching (an idle engine runs at once; arrivals during a run go together next). > 0: an idle engine waits up to this long to fill a batch.',
  },

  // ONNX Runtime sessions (per model version, passed to the scorer's Model.load)
  {
    key: 'model.sessions',
    type: 'int',
    default: 1,
    min: 1,
    max: 64,
    doc: 'Sessions per model version: native runs that may be in flight at once (the Batcher dispatches up to this many).',
  },
  {
    key: 'model.intraOpThreads',
    type: 'int',
    default: 1,
    min: 0,
    max: 1024,
    doc: 'Threads one run may use inside an operator (0: ONNX Runtime picks). On a small machine 1 leaves the cores to the event loop and the other sessions.',
  },
  {
    key: 'model.categoricalCodes',
    type: 'boolean',
    default: true,
    doc: 'String inputs that feed only a one-hot encoder reach ONNX Runtime as integer codes (the graph is rewritten at load; same answers bit for bit, less work per row). Off: the graph as it is.',
  },
  {
    key: 'model.inlineBudgetMicros',
    type: 'int',
    default: 30,
    min: 0,
    max: 1000,
    doc: "A run predicted (from the version's measured runs) to cost at most this many microseconds runs on the event loop when nothing else is in flight, saving the hand-off to a worker and back (15 to 40 µs). 0: every run on a worker.",
  },
  {
    key: 'overloadStatus',
    type: 'enum',
    default: '503',
    values: ['429', '503'],
    doc: 'HTTP status for QUEUE_FULL: 503 (the server is overloaded) or 429 (the client should slow down). Either carries Retry-After.',
  },
  {
    key: 'retryAfterSeconds',
    type: 'int',
    default: 1,
    min: 0,
    doc: 'Retry-After value sent with QUEUE_FULL and while shutting down.',
  },
  {
    key: 'maxEventLoopDelayMs',
    type: 'number',
    default: 100,
    min: 0,
    doc: 'Past capacity, requests wait unseen in their sockets while the event loop is busy. When the loop runs later than this, scoring requests are refused with QUEUE_FULL before their body is parsed, so refusing stays cheap and the accepted requests keep the CPU. 0: off.',
  },

  // WebSocket /v1/stream
  {
    key: 'ws.maxPayloadBytes',
    type: 'int',
    default: 16 * 1024 * 1024,
    min: 1024,
    doc: 'Largest WebSocket frame; larger closes the connection (uWebSockets.js `maxPayloadLength`).',
  },
  {
    key: 'ws.sendCapBytes',
    type: 'int',
    default: 1024 * 1024,
    min: 1024,
    doc: 'Backpressure: answers are sent while the socket buffers less than this; beyond it they wait in a per-connection queue until the socket drains.',
  },
  {
    key: 'ws.maxInFlight',
    type: 'int',
    default: 8192,
    min: 1,
    doc: 'Most frames being scored or waiting to be sent per connection; a frame past it is answered at once with error STREAM_OVERLOADED.',
  },
  {
    key: 'ws.maxBackpressureBytes',
    type: 'int',
    default: 64 * 1024 * 1024,
    min: 1024,
    doc: 'Hard cap on bytes buffered for a client that does not read; past it the connection is closed.',
  },
  {
    key: 'ws.idleTimeoutSeconds',
    type: 'int',
    default: 120,
    min: 0,
    doc: 'Close a WebSocket silent for this long (0: never). uWebSockets.js sends pings on its own.',
  },

  // Shutdown
  {
    key: 'shutdown.drainTimeoutMs',
    type: 'int',
    default: 30_000,
    min: 0,
    doc: 'On SIGTERM/SIGINT: stop accepting, then wait at most this long for in-flight requests before exiting anyway (exit code 1).',
  },

  // Observability
  {
    key: 'log.level',
    type: 'enum',
    default: 'info',
    env: 'LOG_LEVEL',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    doc: 'pino log level. Logs are JSON lines on stdout.',
  },
  {
    key: 'log.requests',
    type: 'boolean',
    default: false,
    doc: 'Log every request (method, url, status, duration, request id) at info. Off by default: it costs throughput; errors are always logged.',
  },
  {
    key: 'metrics.enabled',
    type: 'boolean',
    default: true,
    doc: 'Serve Prometheus metrics on /metrics and record them. When off, the request path skips all instrumentation.',
  },
  {
    key: 'metrics.defaultMetrics',
    type: 'boolean',
    default: true,
    doc: 'Also export prom-client default process metrics (CPU, memory, GC, event-loop lag percentiles).',
  },
  { key: 'docs.enabled', type: 'boolean', default: true, doc: 'Serve /openapi.json and the Swagger UI on /docs.' },
  {
    key: 'console.enabled',
    type: 'boolean',
    default: true,
    doc: 'Serve the web console at / (static assets built at set-up by packages/console; it calls the same public API as any client).',
  },

  // Cache tiers: L1 in process (per request), L2 Redis (per micro-batch). See the README's "Caching".
  {
    key: 'cache.l1.enabled',
    type: 'boolean',
    default: true,
    doc: 'L1: an in-process LRU of predictions (lru-cache), looked up per request before anything queues. A request whose rows all hit never reaches the batcher.',
  },
  {
    key: 'cache.l1.maxEntries',
    type: 'int',
    default: 100_000,
    min: 1,
    doc: 'L1: most predictions held (one per row), over all models.',
  },
  {
    key: 'cache.l1.maxBytes',
    type: 'int',
    default: 32 * 1024 * 1024,
    min: 1024,
    doc: "L1: most memory held, estimated per entry as its key length plus 150 bytes (the score, lru-cache's bookkeeping, the Map entry). The least recently used entries go first when either bound is reached.",
  },
  {
    key: 'cache.l1.ttlMs',
    type: 'int',
    default: 60_000,
    min: 0,
    doc: 'L1: an entry expires this long after it was stored (0: never; only evicted). Bounds how long an admin flush on one replica leaves other replicas serving their own copies.',
  },
  {
    key: 'redisUrl',
    type: 'nullable-string',
    default: null,
    env: 'REDIS_URL',
    doc: 'L2: the Redis server (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS), read by ioredis. Setting it (or `cache.l2.cluster`, or `sentinels` in `cache.l2.redisOptions`) turns L2 on; unset, there is no L2. The gateway starts and stays ready whether or not Redis answers.',
  },
  {
    key: 'cache.l2.cluster',
    type: 'string-list',
    default: [],
    doc: 'L2 on Redis Cluster: startup nodes as `host:port` (ioredis `Cluster`). Takes the place of `redisUrl`.',
  },
  {
    key: 'cache.l2.redisOptions',
    type: 'object',
    default: {},
    doc: 'L2: ioredis options, passed through (a JSON object; config file, or JSON on the flag). For Sentinel: `{"sentinels": [{"host": "s1", "port": 26379}], "name": "mymaster"}`; also `password`, `tls`, `db`, ... With `cache.l2.cluster` they are the Cluster options. The gateway then sets `enableOfflineQueue: false`, `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false`, which the degradation promise depends on.',
  },
  {
    key: 'cache.l2.timeoutMs',
    type: 'number',
    default: 5,
    min: 0.1,
    max: 10_000,
    doc: 'L2 budget: the longest a micro-batch waits for its Redis lookup (one MGET). Past it, or on any error, the batch goes straight to inference; the request never fails because of Redis.',
  },
  {
    key: 'cache.l2.ttlMs',
    type: 'int',
    default: 3_600_000,
    min: 0,
    doc: "L2: Redis expiry of a stored prediction (`SET ... PX`); 0: no expiry (rely on Redis's maxmemory policy).",
  },
  {
    key: 'cache.l2.keyPrefix',
    type: 'string',
    default: 'ortline:',
    doc: "L2: prefix of every key: `<prefix>{<model>:<version>}:<hash>`. The braces are a Redis Cluster hash tag: one model version's keys share a slot, so one MGET serves a batch.",
  },
  {
    key: 'cache.l2.breakerThreshold',
    type: 'int',
    default: 3,
    min: 1,
    doc: 'Circuit breaker: consecutive failed or timed-out Redis calls that open it. While open, no Redis calls at all: requests go straight to L1 and inference.',
  },
  {
    key: 'cache.l2.breakerCooldownMs',
    type: 'int',
    default: 1000,
    min: 10,
    doc: 'Circuit breaker: how long it stays open before one probe (the next lookup) may go; success closes it, failure opens it again.',
  },

  // Administration
  {
    key: 'admin.token',
    type: 'nullable-string',
    default: null,
    env: 'ORTLINE_ADMIN_TOKEN',
    doc: 'Bearer token for the admin routes (`/admin/v1/...`: cache flushes, loading and unloading model versions, routing, rollback). Unset: admin routes answer 403 ADMIN_DISABLED and are left out of /openapi.json. Requests must send `Authorization: Bearer <token>`.',
  },

  // Shadow traffic (a model's routing names a shadow version)
  {
    key: 'shadow.sampleRate',
    type: 'number',
    default: 1,
    min: 0,
    max: 1,
    doc: 'Share of requests whose records the shadow version also scores, off the response path (0: none).',
  },
  {
    key: 'shadow.maxQueueRows',
    type: 'int',
    default: 1024,
    min: 1,
    doc: "Most shadow rows waiting for the shadow version; past it shadow rows are dropped (counted, reason `full`). Shadow rows are also dropped whenever the live version's queue holds more than `batcher.maxBatchRows` (reason `busy`): under load, the shadow goes first.",
  },

  // Drift (against each model card's `reference` distributions)
  {
    key: 'drift.enabled',
    type: 'boolean',
    default: true,
    doc: "Watch every model version's inputs and predicted probabilities against its model card's reference distributions: PSI per feature and of the score over a sliding window, in `/metrics` and `GET /v1/models/{name}/drift`. Versions whose card has no `reference` are not watched.",
  },
  {
    key: 'drift.windowRows',
    type: 'int',
    default: 10_000,
    min: 10,
    doc: 'The drift window: the last this many rows answered by a version (it slides by a tenth). Ignored when `drift.windowSeconds` is set.',
  },
  {
    key: 'drift.windowSeconds',
    type: 'int',
    default: 0,
    min: 0,
    doc: '> 0: the drift window is the rows of the last this many seconds instead (it slides by a tenth).',
  },
  {
    key: 'drift.minRows',
    type: 'int',
    default: 500,
    min: 1,
    doc: 'Fewer rows than this in the window: no PSI is reported (`psi: null`, status `insufficient_data`) rather than a noisy one.',
  },

  // Traffic log (docs/traffic-log.md)
  {
    key: 'trafficLog.sampleRate',
    type: 'number',
    default: 0,
    min: 0,
    max: 1,
    doc: 'Share of answered rows written to the traffic log, each as one JSON line (0: off). Written off the request path; a request never waits for the log or fails because of it.',
  },
  {
    key: 'trafficLog.dir',
    type: 'string',
    default: 'traffic-log',
    env: 'TRAFFIC_LOG_DIR',
    doc: 'Folder of the traffic log files (`traffic-<opened>-<pid>-<n>.jsonl`, gzip-compressed to `.jsonl.gz` when closed); created at start when logging is on.',
  },
  {
    key: 'trafficLog.maxQueueRows',
    type: 'int',
    default: 10_000,
    min: 1,
    doc: 'Rows waiting to be written; past it, sampled rows are dropped and counted (`ortline_traffic_log_dropped_rows_total{reason="full"}`).',
  },
  {
    key: 'trafficLog.maxFileBytes',
    type: 'int',
    default: 64 * 1024 * 1024,
    min: 1024,
    doc: 'A log file this large (before compression) is closed and a new one opened.',
  },
  {
    key: 'trafficLog.rotateSeconds',
    type: 'int',
    default: 3600,
    min: 1,
    doc: 'A log file open this long is closed and a new one opened, even when no rows come.',
  },

  // Runtime
  {
    key: 'allowUwsFallback',
    type: 'boolean',
    default: false,
    doc: 'Start even when the uWebSockets.js native binding cannot load and the package falls back to a pure-JS server. Off: refuse to start, since that fallback is several times slower.',
  },
];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The resolved configuration: every option present, validated, deeply frozen. */
export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  readonly modelsDir: string;
  readonly models: {
    readonly control: 'none' | 'explicit' | 'poll';
    readonly pollIntervalMs: number;
    readonly pollSettleMs: number;
  };
  readonly warmup: boolean;
  readonly passthroughFields: readonly string[];
  readonly maxBodyBytes: number;
  readonly maxInstances: number;
  readonly requestTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly maxEventLoopDelayMs: number;
  readonly batcher: {
    readonly maxBatchRows: number;
    readonly maxQueueRows: number;
    readonly maxQueueMs: number;
    readonly maxWaitMs: number;
  };
  readonly model: {
    readonly sessions: number;
    readonly intraOpThreads: number;
    readonly categoricalCodes: boolean;
    readonly inlineBudgetMicros: number;
  };
  readonly overloadStatus: '429' | '503';
  readonly retryAfterSeconds: number;
  readonly ws: {
    readonly maxPayloadBytes: number;
    readonly sendCapBytes: number;
    readonly maxInFlight: number;
    readonly maxBackpressureBytes: number;
    readonly idleTimeoutSeconds: number;
  };
  readonly shutdown: { readonly drainTimeoutMs: number };
  readonly shadow: { readonly sampleRate: number; readonly maxQueueRows: number };
  readonly drift: {
    readonly enabled: boolean;
    readonly windowRows: number;
    readonly windowSeconds: number;
    readonly minRows: number;
  };
  readonly trafficLog: {
    readonly sampleRate: number;
    readonly dir: string;
    readonly maxQueueRows: number;
    readonly maxFileBytes: number;
    readonly rotateSeconds: number;
  };
  readonly log: { readonly level: LogLevel; readonly requests: boolean };
  readonly metrics: { readonly enabled: boolean; readonly defaultMetrics: boolean };
  readonly docs: { readonly enabled: boolean };
  readonly console: { readonly enabled: boolean };
  readonly cache: {
    readonly l1: {
      readonly enabled: boolean;
      readonly maxEntries: number;
      readonly maxBytes: number;
      readonly ttlMs: number;
    };
    readonly l2: {
      readonly cluster: readonly string[];
      readonly redisOptions: Readonly<Record<string, unknown>>;
      readonly timeoutMs: number;
      readonly ttlMs: number;
      readonly keyPrefix: string;
      readonly breakerThreshold: number;
      readonly breakerCooldownMs: number;
    };
  };
  readonly redisUrl: string | null;
  readonly admin: { readonly token: string | null };
  readonly tls: { readonly cert: string | null; readonly key: string | null };
  readonly allowUwsFallback: boolean;
}

/** A partial configuration, as a config file or a caller of `createGateway` gives it. */
export type GatewayConfigInput = DeepPartial<GatewayConfig>;
type DeepPartial<T> = {
  -readonly [K in keyof T]?: T[K] extends readonly unknown[]
    ? T[K]
    : K extends 'redisOptions'
      ? T[K]
      : T[K] extends object
        ? DeepPartial<T[K]>
        : T[K];
};

/** `batcher.maxBatchRows` -> `--batcher-max-batch-rows`. */
export function flagOf(spec: OptionSpec): string {
  return spec.flag ?? `--${spec.key.replace(/\./g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
