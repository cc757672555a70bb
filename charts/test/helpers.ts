// Shared by the deploy tests: the pinned tools in .tools/ (installed by
// scripts/install-deploy-tools.sh), rendering the chart, reading YAML, and the pieces of the
// gateway's own configuration code the tests check the chart against.
import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { OPTIONS, type OptionSpec } from '../../packages/gateway/src/config/options.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART = join(ROOT, 'charts/ortline');
export const TOOLS = process.env.ORTLINE_TOOLS_DIR ?? join(ROOT, '.tools');
export const tool = (name: 'helm' | 'kube-score' | 'kubernetes-validate' | 'hadolint'): string =>
  join(TOOLS, 'bin', name);

/** Kubernetes versions the rendered objects are validated against: the chart's lowest supported
 * (Chart.yaml kubeVersion) and the version the tests pin as current. */
export const KUBE_VERSION_MIN = '1.27.0';
export const KUBE_VERSION = '1.34.0';

/** Release and namespace every render uses; the release name equals the chart name, so the
 * full name is just "ortline". */
export const RELEASE = 'ortline';
export const NAMESPACE = 'ortline';

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(cmd: string, args: readonly string[], opts: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, cwd: ROOT, ...opts });
  if (r.error) throw r.error;
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/**
 * Fails the suite at once, naming the set-up script, when a pinned tool is missing: tests install
 * nothing (scripts/setup-dev.sh runs scripts/install-deploy-tools.sh).
 */
export function requireTools(): void {
  const tools = ['helm', 'kube-score', 'kubernetes-validate', 'hadolint'] as const;
  const missing = tools.filter((name) => !existsSync(tool(name)));
  if (missing.length > 0)
    throw new Error(`missing in ${TOOLS}/bin: ${missing.join(', ')}; run: bash scripts/install-deploy-tools.sh`);
}

// Scratch folders, removed after the test file that made them (each file evaluates this module
// afresh, so the hook is registered on every file that imports it).
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});
export function tmpDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ortline-charts-'));
  scratch.push(dir);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// YAML, with the yaml package (a dev dependency; no Python in the chart tests).

/**
 * Every document of a YAML stream, as JSON values (empty documents dropped). YAML 1.1, as
 * Kubernetes' own parser reads it (`yes` is a boolean there). A duplicate key is an error:
 * Kubernetes would silently keep one of the two (a label, an env var).
 */
export function yamlDocs(text: string): any[] {
  const docs = parseAllDocuments(text, { version: '1.1', uniqueKeys: true });
  if (!Array.isArray(docs)) return [];
  const out: any[] = [];
  for (const [i, doc] of docs.entries()) {
    const problem = doc.errors[0];
    if (problem) throw new Error(`YAML parse failed (document ${i + 1}): ${problem.message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Helm

export interface RenderOptions {
  /** Values files, relative to the chart (e.g. "values-production.yaml"). */
  readonly values?: readonly string[];
  /** --set expressions. */
  readonly set?: readonly string[];
  readonly kubeVersion?: string;
  /** Also render the `helm test` hook pods (helm template does by default). */
  readonly extra?: readonly string[];
}

export function helmTemplate(opts: RenderOptions = {}): RunResult {
  const args = [
    'template',
    RELEASE,
    CHART,
    '--namespace',
    NAMESPACE,
    '--kube-version',
    opts.kubeVersion ?? KUBE_VERSION,
  ];
  for (const f of opts.values ?? []) args.push('-f', join(CHART, f));
  for (const s of opts.set ?? []) args.push('--set', s);
  args.push(...(opts.extra ?? []));
  return run(tool('helm'), args);
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  [k: string]: any;
}

/** Renders and parses; throws with Helm's message when rendering fails. */
export function render(opts: RenderOptions = {}): { yaml: string; objects: K8sObject[] } {
  const r = helmTemplate(opts);
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return { yaml: r.stdout, objects: yamlDocs(r.stdout) as K8sObject[] };
}

export function objectsOf(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function one(objects: readonly K8sObject[], kind: string, name = RELEASE): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1)
    throw new Error(
      `expected one ${kind} ${name}, found ${found.length} (have: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`,
    );
  return found[0]!;
}

/** Pod specs of every workload (Deployment, StatefulSet, ...) and bare Pod. */
export function podSpecs(
  objects: readonly K8sObject[],
): { owner: string; spec: any; labels: Record<string, string> }[] {
  const out: { owner: string; spec: any; labels: Record<string, string> }[] = [];
  for (const o of objects) {
    if (o.kind === 'Pod') out.push({ owner: `Pod/${o.metadata.name}`, spec: o.spec, labels: o.metadata.labels ?? {} });
    else if (o.spec?.template?.spec)
      out.push({
        owner: `${o.kind}/${o.metadata.name}`,
        spec: o.spec.template.spec,
        labels: o.spec.template.metadata?.labels ?? {},
      });
  }
  return out;
}

export function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

// ---------------------------------------------------------------------------------------------
// The gateway's configuration, as the chart must feed it.

/**
 * Gateway options the chart sets itself, outside the `config` value (so the schema keeps them out
 * of `config`): the reason is where they come from instead.
 */
export const CHART_OWNED: Readonly<Record<string, string>> = {
  host: 'HOST env (always 0.0.0.0 in a pod)',
  port: 'PORT env, from containerPort (probes and Service use the same named port)',
  modelsDir: 'MODELS_DIR env, from models.source',
  redisUrl: 'REDIS_URL env, from redis.* (a URL may hold a password: Secret, not ConfigMap)',
  'shutdown.drainTimeoutMs': 'from shutdown.drainTimeoutSeconds, which also sets terminationGracePeriodSeconds',
  'admin.token': 'ORTLINE_ADMIN_TOKEN env from a Secret (admin.existingSecret), never the ConfigMap',
  'tls.cert': 'ORTLINE_TLS_CERT env, the tls.crt of the Secret tls.secretName, mounted read-only',
  'tls.key': 'ORTLINE_TLS_KEY env, the tls.key of the same Secret',
};

function optionSchema(o: OptionSpec): Record<string, unknown> {
  let s: Record<string, unknown>;
  switch (o.type) {
    case 'string':
      s = { type: 'string', minLength: 1 };
      break;
    case 'nullable-string':
      s = { type: ['string', 'null'], minLength: 1 };
      break;
    case 'port':
      s = { type: 'integer', minimum: 0, maximum: 65535 };
      break;
    case 'int':
      s = { type: 'integer' };
      break;
    case 'number':
      s = { type: 'number' };
      break;
    case 'boolean':
      s = { type: 'boolean' };
      break;
    case 'enum':
      // The gateway accepts a numeric enum value as a number too (overloadStatus: 429).
      s = { enum: [...o.values!, ...o.values!.filter((v) => /^[0-9]+$/.test(v)).map(Number)] };
      break;
    case 'string-list':
      s = { type: 'array', items: { type: 'string', minLength: 1 } };
      break;
    case 'object':
      s = { type: 'object' };
      break;
    default:
      throw new Error(
        `option ${o.key}: type ${String(o.type)} has no schema mapping; add one to charts/test/helpers.ts`,
      );
  }
  if (o.min !== undefined) s.minimum = o.min;
  if (o.max !== undefined) s.maximum = o.max;
  s.description = `${o.doc} Default: ${JSON.stringify(o.default)}.`;
  return s;
}

/**
 * The `config` part of values.schema.json, derived from the gateway's option table (the one
 * place that defines every option): nested objects, additionalProperties false, minus CHART_OWNED.
 */
export function configSchema(options: readonly OptionSpec[] = OPTIONS): Record<string, unknown> {
  const root: any = {
    type: 'object',
    additionalProperties: false,
    description:
      'The gateway config file (packages/gateway/CONFIG.md), generated from packages/gateway/src/config/options.ts by charts/test (UPDATE_CHART_SCHEMA=1). Options the chart sets itself are absent.',
    properties: {},
  };
  for (const o of options) {
    if (o.key in CHART_OWNED) continue;
    const path = o.key.split('.');
    let node = root;
    for (const part of path.slice(0, -1)) {
      node.properties[part] ??= { type: 'object', additionalProperties: false, properties: {} };
      node = node.properties[part];
    }
    node.properties[path[path.length - 1]!] = optionSchema(o);
  }
  return root;
}

/** The config file and environment a rendered gateway container gets, written to a temp dir so
 * the gateway's own loader can resolve them exactly as `ortline serve` in the pod would. */
export function containerConfigInputs(objects: readonly K8sObject[]): {
  args: string[];
  env: Record<string, string>;
  configPath: string;
  mountedAt: string;
} {
  const dep = one(objects, 'Deployment');
  const c = dep.spec.template.spec.containers.find((x: any) => x.name === 'gateway');
  const cm = one(objects, 'ConfigMap');
  const dir = tmpDir();
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, cm.data!['config.json']!);
  const env: Record<string, string> = {};
  for (const e of c.env ?? [])
    if (typeof e.value === 'string')
      env[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m: string, v: string) => env[v] ?? m);
  const mountedAt = env.ORTLINE_CONFIG ?? '';
  env.ORTLINE_CONFIG = configPath;
  // No `command`: the image's ENTRYPOINT (node /app/bin/ortline.js) runs with these args.
  if (c.command !== undefined) throw new Error('the gateway container overrides the image ENTRYPOINT');
  return { args: [...(c.args ?? [])], env, configPath, mountedAt };
}
