// @ortline/gateway: HTTP and WebSocket scoring on uWebSockets.js.

export type { CacheTiers, FlushResult } from './cache/tiers.js';
export { renderConfigMarkdown } from './config/doc.js';
export { ConfigError, type ConfigSources, defaultConfig, resolveConfig } from './config/load.js';
export { type GatewayConfig, type GatewayConfigInput, OPTIONS, type OptionSpec } from './config/options.js';
export { ERROR_TABLE, type ErrorCode, GatewayError } from './errors.js';
// For `ortline stream`: record values in JSON or MessagePack, read as the HTTP API reads bodies.
export {
  DecodeError,
  decodeBody,
  type Format,
  JSON_FORMAT,
  MSGPACK_FORMAT,
  packMsgpack,
  requestFormat,
  UNSUPPORTED,
} from './http/codec.js';
// For `ortline stream` (@ortline/cli): the same model-version series and fast metrics as the gateway's.
export { modelMetrics } from './metrics/models.js';
export { registerCounter, registerHistogram } from './metrics/register.js';
export type { ModelGaugeSource } from './metrics/types.js';
// For the `ortline` command's pull and score (@ortline/cli): a version's card, answers and gate.
export {
  AnswerRenderer,
  ModelCardError,
  PredictionIds,
  parseAnswerFields,
  parseRiskBands,
} from './predict/answer.js';
export type { CacheDirective, CacheSource, Scored, Scorer } from './predict/scorer.js';
export { GateError, gateFolder } from './registry/gate.js';
export { idFieldsOf, readCard } from './registry/load.js';
export { MlflowClient, MlflowError } from './registry/mlflow.js';
export { type ModelCard, ModelVersion } from './registry/model-version.js';
export { type ModelEntry, ModelRegistry } from './registry/registry.js';
export { type ModelDir, RepositoryError, scanRepository, type VersionDir } from './registry/repository.js';
/** What a version folder's name must be: a positive integer. */
export { VERSION as VERSION_NAME } from './registry/routing.js';
export { GATEWAY_VERSION, type Gateway, type GatewayStartOptions, StartupError, startGateway } from './server.js';
export { type UwsBinding, uwsBinding } from './uws.js';
