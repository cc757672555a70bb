// A small client of MLflow's Model Registry REST API: which model version an alias or a number
// names, and its artifact folder's files, downloaded through the tracking server's artifact proxy
// (`mlflow-artifacts:` URIs) or copied from a local path (`file:` URIs, a server on this machine).
import { copyFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export class MlflowError extends Error {
  override readonly name = 'MlflowError';
  /** True when the server could not be reached at all (as opposed to answering no). */
  readonly unreachable: boolean;
  constructor(message: string, unreachable = false) {
    super(message);
    this.unreachable = unreachable;
  }
}

export interface RegisteredVersion {
  readonly name: string;
  readonly version: string;
  readonly runId: string;
  /** Where its files are: `mlflow-artifacts:/...`, `file:///...`, or a plain path. */
  readonly artifactUri: string;
}

export class MlflowClient {
  private readonly base: string;

  constructor(trackingUri: string) {
    this.base = trackingUri.replace(/\/+$/, '');
  }

  private async get(path: string, query: Record<string, string>): Promise<Response> {
    const url = `${this.base}${path}?${new URLSearchParams(query)}`;
    try {
      return await fetch(url);
    } catch (err) {
      const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new MlflowError(`cannot reach the MLflow tracking server at ${this.base}: ${cause}`, true);
    }
  }

  private async json(path: string, query: Record<string, string>): Promise<Record<string, unknown>> {
    const r = await this.get(path, query);
    const text = await r.text();
    if (r.status !== 200) {
      let message = text.slice(0, 300);
      try {
        const j = JSON.parse(text) as { error_code?: string; message?: string };
        message = `${j.error_code ?? r.status}: ${j.message ?? text}`;
      } catch {
        // not JSON: the text as it is
      }
      throw new MlflowError(`MLflow ${path} (${new URLSearchParams(query)}): ${message}`);
    }
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** The version an alias points at, or a version by number. */
  async resolve(name: string, selector: { alias: string } | { version: string }): Promise<RegisteredVersion> {
    const mv = (
      'alias' in selector
        ? await this.json('/api/2.0/mlflow/registered-models/alias', { name, alias: selector.alias })
        : await this.json('/api/2.0/mlflow/model-versions/get', { name, version: selector.version })
    ).model_version as { version: string; run_id: string };
    const uri = await this.json('/api/2.0/mlflow/model-versions/get-download-uri', { name, version: mv.version });
    return { name, version: String(mv.version), runId: mv.run_id, artifactUri: String(uri.artifact_uri) };
  }

  /** Downloads the files of a version's artifact folder (not sub-folders) into `dir`; returns their names. */
  async download(v: RegisteredVersion, dir: string): Promise<string[]> {
    const uri = v.artifactUri;
    if (uri.startsWith('mlflow-artifacts:')) {
      // mlflow-artifacts:/<path> or mlflow-artifacts://host/<path>: the proxy serves <path>.
      const path = uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\/*/, '');
      const listing = await this.json('/api/2.0/mlflow-artifacts/artifacts', { path });
      const files = ((listing.files ?? []) as { path: string; is_dir?: boolean }[]).filter((f) => !f.is_dir);
      const names: string[] = [];
      for (const f of files) {
        const name = f.path.split('/').pop()!;
        const r = await this.get(`/api/2.0/mlflow-artifacts/artifacts/${path}/${encodeURIComponent(name)}`, {});
        if (r.status !== 200) throw new MlflowError(`MLflow artifact ${path}/${name}: HTTP ${r.status}`);
        writeFileSync(join(dir, name), new Uint8Array(await r.arrayBuffer()));
        names.push(name);
      }
      return names;
    }
    if (uri.startsWith('file:') || uri.startsWith('/')) {
      const from = uri.startsWith('file:') ? fileURLToPath(uri) : uri;
      const names = readdirSync(from).filter((n) => statSync(join(from, n)).isFile());
      for (const n of names) copyFileSync(join(from, n), join(dir, n));
      return names;
    }
    throw new MlflowError(
      `artifact URI ${uri} is neither served by the tracking server (mlflow-artifacts:) nor a local path; run the server with --artifacts-destination`,
    );
  }
}
