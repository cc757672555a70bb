// @ortline/scorer: ONNX Runtime for Node.js through a Rust addon.

export { Batcher, type BatcherOptions, type BatcherStats, type CallOptions, type DropReason } from './batcher.js';
export { ERROR_CODES, type ErrorCode, ScorerError } from './errors.js';
export { Model } from './model.js';
export {
  type Columns,
  type FeatureIssue,
  type FeatureIssueCode,
  type FeatureKind,
  FeatureSchema,
  type FeatureSpec,
  type ModelCardLike,
  type SchemaOptions,
} from './schema.js';
export type * from './types.js';
