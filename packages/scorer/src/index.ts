// @ortline/scorer: ONNX Runtime for Node.js through a Rust addon.
export { Model } from './model.js';
export { ScorerError, ERROR_CODES, type ErrorCode } from './errors.js';
export type * from './types.js';
export { FeatureSchema, type FeatureSpec, type FeatureKind, type FeatureIssue, type FeatureIssueCode, type ModelCardLike, type SchemaOptions } from './schema.js';
export { Batcher, type BatcherOptions, type BatcherStats } from './batcher.js';
