// One model version loaded for scoring files: its folder (model.onnx and model.json, as in a
// models directory) read the way the gateway reads it, so that a file's rows get the answers the
// HTTP API would give.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  AnswerRenderer,
  idFieldsOf,
  PredictionIds,
  parseAnswerFields,
  parseRiskBands,
  readCard,
} from '@ortline/gateway';
import { OPTIONS } from '@ortline/gateway/config';
import { Batcher, FeatureSchema, Model } from '@ortline/scorer';
import { ScoreFileError } from './types.js';

export interface BulkModel {
  readonly version: string;
  readonly schema: FeatureSchema;
  readonly batcher: Batcher;
  readonly answers: AnswerRenderer;
  /** Native runs so far, on the calling thread and on the worker pool. */
  runs(): { readonly inline: number; readonly pool: number };
  close(): Promise<void>;
}

const DEFAULT_ID_FIELDS = OPTIONS.find((o) => o.key === 'passthroughFields')!.default as readonly string[];

export async function loadBulkModel(
  dir: string,
  options: {
    readonly batchRows: number;
    readonly intraOpThreads?: number;
    /** Called after each native run: its rows and duration (for metrics). */
    readonly onBatch?: (rows: number, durationMs: number) => void;
  },
): Promise<BulkModel> {
  const onnxPath = join(dir, 'model.onnx');
  if (!existsSync(onnxPath))
    throw new ScoreFileError('UNKNOWN_MODEL', `${dir} is not a model version folder: it has no model.onnx`);
  const version = basename(resolve(dir));
  const cardPath = join(dir, 'model.json');
  const card = readCard(existsSync(cardPath) ? cardPath : undefined, dir);
  const model = await Model.load(onnxPath, { sessions: 1, intraOpThreads: options.intraOpThreads ?? 1 });
  try {
    const fields = parseAnswerFields(card.answer, cardPath);
    const idFields = idFieldsOf(card, model, fields, DEFAULT_ID_FIELDS);
    const schema = FeatureSchema.fromModel(model, card, { passthrough: idFields });
    const batcher = new Batcher(model, schema, {
      maxBatchRows: options.batchRows,
      // The reader never holds more than two batches; the queue needs no limit of its own.
      maxQueueRows: Number.MAX_SAFE_INTEGER,
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
      ...(card.output ? { output: { name: card.output.name, index: card.output.index } } : {}),
    });
    const answers = new AnswerRenderer(
      version,
      parseRiskBands(card.risk_thresholds, cardPath),
      new PredictionIds(),
      fields,
      idFields,
    );
    return {
      version,
      schema,
      batcher,
      answers,
      runs: () => model.runStats,
      async close() {
        await batcher.close();
        model.close();
      },
    };
  } catch (err) {
    model.close();
    throw err;
  }
}
