// The stream Deployment: members of one consumer group running `ortline stream`. Its rendered
// command is run here as the kubelet would run it (the image's models mapped to the repository's),
// against a real Kafka broker: it becomes ready on the probes' port, answers records, and exports
// the metric its HorizontalPodAutoscaler scales on. Its pods are not gateway pods.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBroker } from '../../bench/src/kafka-broker.mjs';
import { produce, readAll, until } from '../../packages/cli/test/kafka-io.js';
import { ensureBuilt, freePort, parity } from '../../packages/gateway/test/helpers.js';
import { helmTemplate, matches, one, podSpecs, RELEASE, ROOT, render } from './helpers.js';

const ENABLED = ['stream.enabled=true', 'stream.brokers={kafka-0.kafka:9092}'];
const NAME = `${RELEASE}-stream`;

describe('stream Deployment', () => {
  let broker: KafkaBroker | undefined;
  let member: ChildProcess | undefined;
  beforeAll(() => ensureBuilt(), 300_000);
  afterAll(async () => {
    member?.kill('SIGKILL');
    await broker?.stop();
  });

  it('is not rendered unless enabled', () => {
    expect(render().objects.filter((o) => o.metadata.name === NAME)).toEqual([]);
  });

  it('runs `replicas` members that the gateway Service, PDB and NetworkPolicy do not select', () => {
    const { objects } = render({ set: [...ENABLED, 'stream.replicas=3'] });
    const deployment = one(objects, 'Deployment', NAME);
    expect(deployment.spec.replicas).toBe(3);
    const pod = podSpecs(objects).find((p) => p.owner === `Deployment/${NAME}`)!;
    for (const kind of ['Service', 'PodDisruptionBudget']) {
      const selector = one(objects, kind).spec.selector;
      expect(matches(selector.matchLabels ?? selector, pod.labels), kind).toBe(false);
    }
    const own = objects
      .filter((o) => o.kind === 'NetworkPolicy')
      .filter((p) => matches(p.spec.podSelector.matchLabels, pod.labels));
    expect(own.map((p) => p.metadata.name)).toEqual([NAME]);
  });

  it('its HorizontalPodAutoscaler replaces replicas and scales on the lag metric', () => {
    const { objects } = render({ set: [...ENABLED, 'stream.autoscaling.enabled=true'] });
    expect(one(objects, 'Deployment', NAME).spec.replicas).toBeUndefined();
    const hpa = one(objects, 'HorizontalPodAutoscaler', NAME);
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: NAME });
    expect(hpa.spec.metrics).toEqual([
      {
        type: 'Pods',
        pods: {
          metric: { name: 'ortline_stream_lag_records' },
          target: { type: 'AverageValue', averageValue: '5000' },
        },
      },
    ]);
  });

  it("its pod's command, run as the kubelet would, joins the group, becomes ready and answers", async () => {
    broker = await KafkaBroker.start();
    await broker.createTopics(['customers', 'churn-scores', 'customers.dead-letter'], 2);
    const statusPort = await freePort();
    const { objects } = render({
      set: ['stream.enabled=true', `stream.brokers={${broker.bootstrap}}`, `stream.statusPort=${statusPort}`],
    });
    const container = one(objects, 'Deployment', NAME).spec.template.spec.containers[0];
    const probe = container.readinessProbe.httpGet;
    expect(container.ports).toEqual([{ name: 'status', containerPort: statusPort, protocol: 'TCP' }]);
    // The image's ENTRYPOINT runs the CLI with these args; its models are the repository's.
    const args: string[] = container.args.map((a: string) => a.replace(/^\/app\/models$/, join(ROOT, 'models')));
    let stderr = '';
    member = spawn(process.execPath, [join(ROOT, 'packages/cli/bin/ortline.js'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    member.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = async () =>
      (await fetch(`http://127.0.0.1:${statusPort}${probe.path}`).catch(() => undefined))?.status === 200;
    let isReady = false;
    await until(
      () => {
        void ready().then((r) => (isReady = r));
        return isReady;
      },
      'the readiness probe',
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${stderr}`);
    });

    const rows = parity().rows.slice(0, 20);
    await produce(
      broker,
      'customers',
      rows.map((r, i) => ({
        partition: i % 2,
        key: r.customerID,
        value: JSON.stringify({ customerID: r.customerID, ...r.features }),
      })),
    );
    const answers = await readAll(broker, 'churn-scores', rows.length);
    expect(answers.map((a) => a.key).sort()).toEqual(rows.map((r) => r.customerID).sort());
    for (const a of answers) {
      const row = rows.find((r) => r.customerID === a.key)!;
      expect(Math.abs(a.value.churn_probability - row.probability)).toBeLessThan(1e-5);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
    expect(metrics).toMatch(/^ortline_stream_lag_records\{topic="customers",partition="[01]"\} \d+$/m);

    member.kill('SIGTERM');
    const code = await new Promise((r) => member!.once('exit', r));
    expect(code, stderr).toBe(0);
  }, 180_000);

  it('refuses values that could not work, saying why', () => {
    const cases: [string[], RegExp][] = [
      [['stream.enabled=true'], /stream.brokers must list the Kafka bootstrap brokers/],
      [[...ENABLED, 'stream.out=customers'], /three different topics/],
      [[...ENABLED, 'stream.brokers={kafka-0}'], /\/stream\/brokers\/0.*does not match/],
      [
        [...ENABLED, 'stream.autoscaling.enabled=true', 'stream.autoscaling.minReplicas=5'],
        /minReplicas=5 exceeds stream.autoscaling.maxReplicas=4/,
      ],
    ];
    for (const [set, message] of cases) {
      const r = helmTemplate({ set });
      expect(r.status, set.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
  });
});
