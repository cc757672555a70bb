// @ortline/gateway: HTTP and WebSocket scoring on uWebSockets.js.
export { startGateway, GATEWAY_VERSION, StartupError, type Gateway, type GatewayStartOptions } from './server.js';
export { resolveConfig, defaultConfig, ConfigError, type ConfigSources } from './config/load.js';
export { OPTIONS, type GatewayConfig, type GatewayConfigInput, type OptionSpec } from './config/options.js';
export { renderConfigMarkdown } from './config/doc.js';
export { ERROR_TABLE, GatewayError, type ErrorCode } from './errors.js';
export { uwsBinding, type UwsBinding } from './uws.js';
export { ModelRegistry, ModelVersion, type ModelCard, type ModelEntry } from './registry/registry.js';
export { scanRepository, RepositoryError, type ModelDir, type VersionDir } from './registry/repository.js';
export type { Scorer, Scored, CacheDirective, CacheSource } from './predict/scorer.js';
export type { CacheTiers, FlushResult } from './cache/tiers.js';
export { main } from './cli.js';
