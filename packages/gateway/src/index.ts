// @ortline/gateway: HTTP and WebSocket scoring on uWebSockets.js.

export type { CacheTiers, FlushResult } from './cache/tiers.js';
export { main } from './cli.js';
export { renderConfigMarkdown } from './config/doc.js';
export { ConfigError, type ConfigSources, defaultConfig, resolveConfig } from './config/load.js';
export { type GatewayConfig, type GatewayConfigInput, OPTIONS, type OptionSpec } from './config/options.js';
export { ERROR_TABLE, type ErrorCode, GatewayError } from './errors.js';
export type { CacheDirective, CacheSource, Scored, Scorer } from './predict/scorer.js';
export { type ModelCard, ModelVersion } from './registry/model-version.js';
export { type ModelEntry, ModelRegistry } from './registry/registry.js';
export { type ModelDir, RepositoryError, scanRepository, type VersionDir } from './registry/repository.js';
export { GATEWAY_VERSION, type Gateway, type GatewayStartOptions, StartupError, startGateway } from './server.js';
export { type UwsBinding, uwsBinding } from './uws.js';
