// The model repository on disk: <dir>/<name>/<version>/{model.onnx, model.json}, numeric
// versions (Triton/KServe layout), and per model its routing (routing.ts: serving.json, or the
// older ACTIVE file). Only reads the directory tree; loading is the registry's job. The rule of
// what is a version and which one is active is shared with the training pipeline
// (models/training/churn_training/repository.py) and pinned by testdata/routing.json,
// which both test suites run.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ACTIVE_FILE,
  defaultRouting,
  parseRouting,
  type Routing,
  RoutingError,
  SERVING_FILE,
  VERSION,
} from './routing.js';

export interface VersionDir {
  readonly version: string;
  readonly dir: string;
  readonly onnxPath: string;
  /** model.json, when present. */
  readonly cardPath: string | undefined;
}

export interface ModelDir {
  readonly name: string;
  readonly dir: string;
  /** Ascending by version number. */
  readonly versions: readonly VersionDir[];
  readonly routing: Routing;
  /** Why a subdirectory was skipped (no model.onnx, ...), for the start-up log. */
  readonly skipped: readonly string[];
}

export class RepositoryError extends Error {
  override readonly name = 'RepositoryError';
}

/** The repository's own models/ (this package lives in <repo>/packages/gateway). */
const REPO_MODELS = fileURLToPath(new URL('../../../../models', import.meta.url));

/**
 * The directory to serve. The default, `models`, means ./models, or, when the working directory
 * has none, the models/ of the repository this package is in (so `pnpm --filter
 * @ortline/gateway exec ortline serve` serves the bundled models).
 */
export function resolveModelsDir(configured: string, isDefault: boolean): string {
  const local = resolve(configured);
  if (isDefault && !existsSync(local) && existsSync(REPO_MODELS)) return REPO_MODELS;
  return local;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Every model with at least one numeric version holding a model.onnx. Other folders are ignored. */
export function scanRepository(modelsDir: string): { models: ModelDir[]; ignored: string[] } {
  const root = resolve(modelsDir);
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new RepositoryError(`models directory ${root} does not exist or is not a directory`);
  const models: ModelDir[] = [];
  const ignored: string[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    if (!statSync(dir).isDirectory()) continue;
    const skipped: string[] = [];
    const versions: VersionDir[] = [];
    for (const v of readdirSync(dir)) {
      const vdir = join(dir, v);
      if (!VERSION.test(v) || !statSync(vdir).isDirectory()) continue;
      const onnxPath = join(vdir, 'model.onnx');
      if (!existsSync(onnxPath)) {
        skipped.push(`${name}/${v}: no model.onnx`);
        continue;
      }
      const cardPath = join(vdir, 'model.json');
      versions.push({
        version: v,
        dir: vdir,
        onnxPath,
        cardPath: existsSync(cardPath) ? cardPath : undefined,
      });
    }
    if (versions.length === 0) {
      ignored.push(name);
      continue;
    }
    if (!NAME.test(name))
      throw new RepositoryError(
        `model directory "${name}" is not a usable model name (letters, digits, "_", ".", "-")`,
      );
    versions.sort((a, b) => Number(a.version) - Number(b.version));
    models.push({
      name,
      dir,
      versions,
      routing: readRouting(
        dir,
        versions.map((x) => x.version),
      ),
      skipped,
    });
  }
  return { models, ignored };
}

/** serving.json when there is one (an ACTIVE file beside it is then ignored), else ACTIVE, else the highest. */
export function readRouting(modelDir: string, versions: readonly string[]): Routing {
  const serving = join(modelDir, SERVING_FILE);
  const pointer = join(modelDir, ACTIVE_FILE);
  try {
    if (existsSync(serving)) return parseRouting(readFileSync(serving, 'utf8'), versions, serving);
    return defaultRouting(versions, existsSync(pointer) ? readFileSync(pointer, 'utf8') : undefined, pointer);
  } catch (err) {
    if (err instanceof RoutingError) throw new RepositoryError(err.message, { cause: err });
    throw err;
  }
}
