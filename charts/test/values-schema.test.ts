// values.schema.json: bad values fail at `helm install` (here: `helm template`, which runs the
// same schema check and the chart's own cross-field checks), good ones pass, and the `config`
// section accepts exactly what the gateway's config loader accepts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../packages/gateway/src/config/options.js';
import { loadCliConfig, parseArgs } from '../../packages/gateway/src/config.js';
import {
  CHART,
  CHART_OWNED,
  configSchema,
  containerConfigInputs,
  helmTemplate,
  render,
  requireTools,
  tmpDir,
} from './helpers.js';

beforeAll(requireTools);

const SCHEMA_PATH = join(CHART, 'values.schema.json');

describe('values.schema.json rejects bad values', () => {
  // [what, --set expressions, a fragment the error must contain (so it fails for that reason)]
  // [what, --set expressions, where Helm must report the error (so it fails for that reason)]
  const bad: [string, string[], string][] = [
    ['negative replicaCount', ['replicaCount=-1'], "at '/replicaCount'"],
    ['replicaCount of the wrong type', ['replicaCount=three'], "at '/replicaCount': got string, want integer"],
    ['an unknown top-level key', ['replicas=3'], "additional properties 'replicas' not allowed"],
    [
      'a typo inside a group',
      ['autoscaling.maxReplica=3'],
      "at '/autoscaling': additional properties 'maxReplica' not allowed",
    ],
    ['a pull policy Kubernetes does not know', ['image.pullPolicy=Sometimes'], "at '/image/pullPolicy'"],
    ['a digest that is not sha256', ['image.digest=sha256:abc'], "at '/image/digest'"],
    ['an unknown model source', ['models.source=s3'], "at '/models/source'"],
    ['a privileged containerPort', ['containerPort=80'], "at '/containerPort'"],
    [
      'CPU target above 100%',
      ['autoscaling.targetCPUUtilizationPercentage=150'],
      "at '/autoscaling/targetCPUUtilizationPercentage'",
    ],
    ['a gateway option out of range', ['config.batcher.maxBatchRows=0'], "at '/config/batcher/maxBatchRows'"],
    ['a gateway option of the wrong type', ['config.warmup=maybe'], "at '/config/warmup'"],
    [
      'an unknown gateway option',
      ['config.batcher.maxBatchSize=10'],
      "at '/config/batcher': additional properties 'maxBatchSize' not allowed",
    ],
    ['a gateway enum value it rejects', ['config.overloadStatus=500'], "at '/config/overloadStatus'"],
    [
      'a chart-owned gateway option (port)',
      ['config.port=9000'],
      "at '/config': additional properties 'port' not allowed",
    ],
    [
      'a chart-owned gateway option (drain)',
      ['config.shutdown.drainTimeoutMs=1000'],
      "at '/config': additional properties 'shutdown' not allowed",
    ],
    [
      'a secret in the ConfigMap (admin token)',
      ['config.admin.token=hunter2'],
      "at '/config': additional properties 'admin' not allowed",
    ],
    [
      'a Redis URL in the ConfigMap',
      ['config.redisUrl=redis://r:6379'],
      "at '/config': additional properties 'redisUrl' not allowed",
    ],
    ['running as root', ['securityContext.runAsNonRoot=false'], "at '/securityContext/runAsNonRoot'"],
    [
      'a pod allowed to run as root',
      ['podSecurityContext.runAsNonRoot=false'],
      "at '/podSecurityContext/runAsNonRoot'",
    ],
    [
      'a writable root filesystem',
      ['securityContext.readOnlyRootFilesystem=false'],
      "at '/securityContext/readOnlyRootFilesystem'",
    ],
    [
      'privilege escalation',
      ['securityContext.allowPrivilegeEscalation=true'],
      "at '/securityContext/allowPrivilegeEscalation'",
    ],
    ['a Redis URL of another scheme', ['redis.url=http://redis:6379'], "at '/redis/url'"],
    ['a drain shorter than a second', ['shutdown.drainTimeoutSeconds=0'], "at '/shutdown/drainTimeoutSeconds'"],
    ['no margin after the drain', ['shutdown.extraGraceSeconds=0'], "at '/shutdown/extraGraceSeconds'"],
  ];
  for (const [what, set, message] of bad) {
    it(`fails on ${what}`, () => {
      const r = helmTemplate({ set });
      expect(r.status, `helm template --set ${set.join(' ')} should fail`).not.toBe(0);
      expect(r.stderr).toContain("values don't meet the specifications of the schema");
      expect(r.stderr).toContain(message);
    });
  }
});

describe('the chart rejects inconsistent values (template checks)', () => {
  const bad: [string, string[], RegExp][] = [
    [
      'minReplicas above maxReplicas',
      ['autoscaling.minReplicas=5', 'autoscaling.maxReplicas=2'],
      /minReplicas \(5\) is greater than autoscaling.maxReplicas \(2\)/,
    ],
    [
      'a grace period shorter than preStop + drain + margin',
      ['shutdown.terminationGracePeriodSeconds=20'],
      /terminationGracePeriodSeconds=20 is shorter/,
    ],
    [
      'two Redis sources at once',
      ['redis.enabled=true', 'redis.url=redis://elsewhere:6379'],
      /at most one of redis.enabled, redis.url/,
    ],
    [
      'a PDB that could never let a pod go',
      ['podDisruptionBudget.maxUnavailable=null', 'podDisruptionBudget.minAvailable=2'],
      /minAvailable \(2\) must be below the replica count \(2\)/,
    ],
    [
      'a PDB with both fields',
      ['podDisruptionBudget.minAvailable=1'],
      /exactly one of maxUnavailable and minAvailable/,
    ],
    ['models from a volume without a volume', ['models.source=volume'], /models.source=volume needs models.volume/],
    [
      'an init container without image or command',
      ['models.source=initContainer'],
      /needs models.initContainer.image.repository/,
    ],
  ];
  for (const [what, set, message] of bad) {
    it(`fails on ${what}`, () => {
      const r = helmTemplate({ set });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
    });
  }
});

describe('good values pass (the failures above are not the command failing anyway)', () => {
  const good: [string, string[]][] = [
    ['defaults', []],
    ['replicaCount without autoscaling', ['autoscaling.enabled=false', 'replicaCount=3']],
    ['a digest', [`image.digest=sha256:${'a'.repeat(64)}`]],
    [
      'gateway options',
      ['config.batcher.maxBatchRows=512', 'config.overloadStatus=429', 'config.warmup=false', 'config.log.level=debug'],
    ],
    ['a grace period above the sum', ['shutdown.terminationGracePeriodSeconds=60']],
    [
      'minAvailable below the replica count',
      ['podDisruptionBudget.maxUnavailable=null', 'podDisruptionBudget.minAvailable=1'],
    ],
    ['an external Redis URL', ['redis.url=rediss://cache.example.com:6380/0']],
    ['built-in Redis', ['redis.enabled=true']],
  ];
  for (const [what, set] of good) {
    it(`renders ${what}`, () => {
      const r = helmTemplate({ set });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }
  it('renders values-production.yaml', () => {
    const r = helmTemplate({ values: ['values-production.yaml'] });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('the config section follows the gateway option table', () => {
  it('values.schema.json `config` is generated from packages/gateway/src/config/options.ts', () => {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'));
    const expected = configSchema();
    if (process.env.UPDATE_CHART_SCHEMA === '1') {
      schema.properties.config = expected;
      writeFileSync(SCHEMA_PATH, `${JSON.stringify(schema, null, 2)}\n`);
    }
    // On failure: the gateway's options changed; regenerate with
    //   UPDATE_CHART_SCHEMA=1 pnpm exec vitest run charts/test/values-schema.test.ts
    expect(schema.properties.config).toEqual(expected);
  });

  it('every chart-owned option is a real gateway option', () => {
    const keys = new Set(OPTIONS.map((o) => o.key));
    for (const k of Object.keys(CHART_OWNED)) expect(keys, k).toContain(k);
  });

  it("every option the schema allows, set to its default, is accepted by the gateway's loader", () => {
    // Defaults are valid by definition; this catches a schema that nests or names a key
    // differently from the loader (the pod would then crash at start-up).
    const config: Record<string, any> = {};
    for (const o of OPTIONS) {
      if (o.key in CHART_OWNED) continue;
      const path = o.key.split('.');
      let node = config;
      for (const p of path.slice(0, -1)) node = node[p] ??= {};
      node[path[path.length - 1]!] = o.default;
    }
    const file = join(tmpDir(), 'config.json');
    writeFileSync(file, JSON.stringify(config));
    expect(() => loadCliConfig(parseArgs(['serve', '--config', file]), {})).not.toThrow();
  });

  for (const [what, opts] of [
    ['default values', {}],
    ['values-production.yaml', { values: ['values-production.yaml'] }],
    [
      'built-in Redis and gateway options',
      { set: ['redis.enabled=true', 'config.batcher.maxBatchRows=256', 'config.overloadStatus=429'] },
    ],
  ] as const) {
    it(`the rendered config file and environment of ${what} are accepted by the gateway`, () => {
      const { objects } = render(opts);
      const { args, env } = containerConfigInputs(objects);
      // Exactly what `ortline serve` does in the pod: flags > environment > config file > defaults.
      expect(() => loadCliConfig(parseArgs(args), env)).not.toThrow();
    });
  }
});
