// The chart through the validators CI runs: helm lint, helm template, kubernetes-validate (every
// rendered object against the Kubernetes API's schemas, offline, strict) and kube-score (static
// analysis: security, probes, resources, disruption budgets, network policies). Each runs on
// every variant below, and each validator is first shown to reject a bad input, so a validator
// that silently checks nothing fails here too.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CHART,
  KUBE_VERSION,
  KUBE_VERSION_MIN,
  type RenderOptions,
  render,
  requireTools,
  run,
  tmpDir,
  tool,
  yamlDocs,
} from './helpers.js';

beforeAll(requireTools);

/** Custom resources: no schema ships with kubernetes-validate; rendered.test.ts checks them field by field. */
const CUSTOM_KINDS = new Set(['ServiceMonitor', 'PodMonitor', 'PrometheusRule']);

const VARIANTS: Record<string, RenderOptions> = {
  'default values': {},
  'values-production.yaml': { values: ['values-production.yaml'] },
  'values-local-registry.yaml': { values: ['values-local-registry.yaml'] },
  'built-in Redis, restricted egress': { set: ['redis.enabled=true', 'networkPolicy.egress.allowAll=false'] },
  'models from a PersistentVolumeClaim': {
    set: [
      'models.source=volume',
      'models.volume.persistentVolumeClaim.claimName=ortline-models',
      'models.volume.persistentVolumeClaim.readOnly=true',
    ],
  },
  'models from an init container': {
    set: [
      'models.source=initContainer',
      'models.initContainer.image.repository=example/model-fetcher',
      'models.initContainer.image.tag=1.0.0',
      'models.initContainer.command={sh,-c,fetch-model churn 1 "$MODELS_DIR"}',
    ],
  },
  'bulk scoring Job, models from a PersistentVolumeClaim': {
    set: [
      'bulkJob.enabled=true',
      'bulkJob.volume.persistentVolumeClaim.claimName=churn-batch',
      'models.source=volume',
      'models.volume.persistentVolumeClaim.claimName=ortline-models',
    ],
  },
  'stream members, autoscaled on lag, scraped by a PodMonitor, restricted egress': {
    set: [
      'stream.enabled=true',
      'stream.brokers={kafka-0.kafka:9092,kafka-1.kafka:9093}',
      'stream.autoscaling.enabled=true',
      'serviceMonitor.enabled=true',
      'networkPolicy.egress.allowAll=false',
    ],
  },
  'no autoscaler, ServiceMonitor, PrometheusRule, dashboards, Ingress, admin token, external Redis secret': {
    set: [
      'autoscaling.enabled=false',
      'replicaCount=3',
      'serviceMonitor.enabled=true',
      'prometheusRule.enabled=true',
      'grafanaDashboards.enabled=true',
      'ingress.enabled=true',
      'admin.existingSecret.name=ortline-admin',
      'redis.existingSecret.name=ortline-redis',
      'tls.secretName=ortline-tls',
      'podAntiAffinity=hard',
    ],
  },
};

interface KubeScoreConfig {
  kubernetesVersion: string;
  enableOptionalTests: string[];
  ignoreTests: { test: string; reason: string }[];
}
const kubeScoreConfig = (): KubeScoreConfig =>
  yamlDocs(readFileSync(join(CHART, '.kube-score.yaml'), 'utf8'))[0] as KubeScoreConfig;

function kubeScore(file: string): { status: number | null; problems: string[]; out: string } {
  const cfg = kubeScoreConfig();
  const args = [
    'score',
    '--output-format',
    'ci',
    '--exit-one-on-warning',
    '--kubernetes-version',
    cfg.kubernetesVersion,
  ];
  for (const t of cfg.enableOptionalTests) args.push('--enable-optional-test', t);
  for (const t of cfg.ignoreTests) args.push('--ignore-test', t.test);
  args.push(file);
  const r = run(tool('kube-score'), args);
  const problems = r.stdout.split('\n').filter((l) => /^\[(WARNING|CRITICAL)\]/.test(l));
  return { status: r.status, problems, out: r.stdout + r.stderr };
}

function kubernetesValidate(file: string, version: string): { status: number | null; out: string } {
  const r = run(tool('kubernetes-validate'), ['--strict', '--kubernetes-version', version, file]);
  return { status: r.status, out: r.stdout + r.stderr };
}

function writeTmp(name: string, text: string): string {
  const file = join(tmpDir(), name);
  writeFileSync(file, text);
  return file;
}

describe('helm lint --strict', () => {
  it('passes with the default values', () => {
    const r = run(tool('helm'), ['lint', CHART, '--strict', '--kube-version', KUBE_VERSION]);
    expect(r.stdout + r.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.status).toBe(0);
  });
  it('passes with values-production.yaml', () => {
    const r = run(tool('helm'), [
      'lint',
      CHART,
      '--strict',
      '--kube-version',
      KUBE_VERSION,
      '-f',
      join(CHART, 'values-production.yaml'),
    ]);
    expect(r.stdout + r.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.status).toBe(0);
  });
  it('fails on a chart that does not meet its schema (the linter is live)', () => {
    const r = run(tool('helm'), ['lint', CHART, '--strict', '--set', 'replicaCount=-1']);
    expect(r.status).not.toBe(0);
  });
});

describe('kubernetes-validate and kube-score are live', () => {
  // Well-formed but bad: privileged, no limits, no probes, :latest, no NetworkPolicy.
  const bad = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad
spec:
  replicas: 2
  selector:
    matchLabels: {app: bad}
  template:
    metadata:
      labels: {app: bad}
    spec:
      containers:
        - name: app
          image: example/app:latest
          securityContext:
            privileged: true
`;
  it('kubernetes-validate rejects a wrong type', () => {
    const r = kubernetesValidate(
      writeTmp('wrong-type.yaml', bad.replace('replicas: 2', 'replicas: "two"')),
      KUBE_VERSION,
    );
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/ERROR .*spec\.replicas: 'two' is not of type 'integer'/);
  });
  it('kubernetes-validate rejects an unknown (misspelt) field in strict mode', () => {
    const r = kubernetesValidate(
      writeTmp(
        'misspelt.yaml',
        bad.replace('image: example/app:latest', 'image: example/app:1.0.0\n          imagePulPolicy: Always'),
      ),
      KUBE_VERSION,
    );
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/ERROR .*imagePulPolicy/);
  });
  it('kubernetes-validate accepts the same object when it is right (the rejections above are about the faults)', () => {
    const r = kubernetesValidate(writeTmp('good.yaml', bad), KUBE_VERSION);
    expect(r.out).toContain('passed for resource deployment/bad');
    expect(r.status).toBe(0);
  });
  it('kube-score flags a privileged container without limits or probes on :latest', () => {
    const r = kubeScore(writeTmp('bad.yaml', bad));
    expect(r.status).not.toBe(0);
    const found = r.problems.join('\n');
    for (const finding of [
      'The container is privileged',
      'Image with latest tag',
      'CPU limit is not set',
      'does not have a matching NetworkPolicy',
      'writable root filesystem',
      'low user ID',
    ])
      expect(found).toContain(finding);
  });
  it('every chart-wide kube-score exclusion gives its reason', () => {
    const cfg = kubeScoreConfig();
    expect(cfg.ignoreTests.length).toBeGreaterThan(0);
    for (const t of cfg.ignoreTests) expect(t.reason?.length ?? 0, t.test).toBeGreaterThan(80);
    const known = run(tool('kube-score'), ['list']).stdout;
    for (const t of [...cfg.ignoreTests.map((x) => x.test), ...cfg.enableOptionalTests])
      expect(known).toContain(`${t},`);
  });
});

for (const [variant, opts] of Object.entries(VARIANTS)) {
  describe(variant, () => {
    let yaml = '';
    let kinds: string[] = [];
    beforeAll(() => {
      const r = render(opts);
      yaml = r.yaml;
      kinds = r.objects.map((o) => o.kind);
    });

    it('renders', () => {
      expect(kinds).toContain('Deployment');
      expect(kinds).toContain('Service');
      expect(kinds).toContain('ConfigMap');
    });

    for (const version of [KUBE_VERSION_MIN, KUBE_VERSION]) {
      it(`every object validates against the Kubernetes ${version} API schemas (strict, offline)`, () => {
        const r = kubernetesValidate(writeTmp('rendered.yaml', yaml), version);
        expect(r.out).not.toMatch(/ERROR/);
        expect(r.status).toBe(0);
        const passed = r.out.split('\n').filter((l) => l.includes('passed for resource')).length;
        expect(passed).toBe(kinds.filter((k) => !CUSTOM_KINDS.has(k)).length);
        // Only the known custom resources may lack a schema.
        for (const m of r.out.matchAll(/Couldn't find schema for kind (\S+)/g)) expect(CUSTOM_KINDS).toContain(m[1]);
      });
    }

    it('kube-score finds nothing (warnings included)', () => {
      const r = kubeScore(writeTmp('rendered.yaml', yaml));
      expect(r.problems).toEqual([]);
      expect(r.status, r.out).toBe(0);
    });
  });
}
