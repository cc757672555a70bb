// The bulk scoring Job: an indexed Job whose pods split a folder of CSV files between them. Its
// rendered command is run here, once per index, as Kubernetes would run it (the index expanded
// into the args, the volume and the image's models mapped to local folders): every file is scored
// by exactly one pod. Its pods are not gateway pods, and may talk to nothing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../packages/gateway/test/helpers.js';
import { helmTemplate, type K8sObject, matches, one, podSpecs, RELEASE, ROOT, render, tmpDir } from './helpers.js';

const ENABLED = ['bulkJob.enabled=true', 'bulkJob.volume.persistentVolumeClaim.claimName=churn-batch'];
const JOB = `${RELEASE}-score`;

/** The container's args with `$(VAR)` expanded from its env as the kubelet does, the index given. */
function podArgs(job: K8sObject, index: number): string[] {
  const c = job.spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef?.fieldPath === "metadata.annotations['batch.kubernetes.io/job-completion-index']")
      env[e.name] = String(index);
    else if (typeof e.value === 'string') env[e.name] = e.value;
  }
  return c.args.map((a: string) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => env[v] ?? m));
}

describe('bulk scoring Job', () => {
  beforeAll(() => ensureBuilt());

  it('is not rendered unless enabled', () => {
    expect(render().objects.filter((o) => o.kind === 'Job')).toEqual([]);
  });

  it('is an indexed Job of `shards` completions whose pods the gateway Service, PDB and policies do not select', () => {
    const { objects } = render({ set: [...ENABLED, 'bulkJob.shards=6', 'bulkJob.parallelism=3'] });
    const job = one(objects, 'Job', JOB);
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 6, parallelism: 3 });
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const pod = podSpecs(objects).find((p) => p.owner === `Job/${JOB}`)!;
    for (const kind of ['Service', 'PodDisruptionBudget']) {
      const selector = one(objects, kind).spec.selector;
      expect(matches(selector.matchLabels ?? selector, pod.labels), kind).toBe(false);
    }
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const own = policies.filter((p) => matches(p.spec.podSelector.matchLabels, pod.labels));
    expect(own.map((p) => p.metadata.name)).toEqual([JOB]);
    // No ingress or egress rule: nothing in, nothing out.
    expect(own[0]!.spec).toEqual({ podSelector: own[0]!.spec.podSelector, policyTypes: ['Ingress', 'Egress'] });
    const gateway = podSpecs(objects).find((p) => p.owner === `Deployment/${RELEASE}`)!;
    expect(matches(own[0]!.spec.podSelector.matchLabels, gateway.labels)).toBe(false);
  });

  it("its pods' commands, run one per index, score every file of the folder exactly once", () => {
    const shards = 3;
    const { objects } = render({ set: [...ENABLED, `bulkJob.shards=${shards}`, `bulkJob.parallelism=${shards}`] });
    const job = one(objects, 'Job', JOB);
    const mountPath = job.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === 'data').mountPath;
    const data = tmpDir();
    const source = readFileSync(join(ROOT, 'models/training/data/telco-churn.csv'), 'utf8').trim().split(/\r?\n/);
    mkdirSync(join(data, 'in'));
    const names = ['a', 'b', 'c', 'd', 'e'].map((n) => `${n}.csv`);
    names.forEach((name, i) => {
      const rows = source.slice(1 + i * 20, 21 + i * 20);
      if (i === 1) rows[3] = rows[3]!.replace(/,Month-to-month,|,One year,|,Two year,/, ',Weekly,');
      writeFileSync(join(data, 'in', name), `${[source[0], ...rows].join('\n')}\n`);
    });

    const scoredBy = new Map<string, number[]>();
    for (let index = 0; index < shards; index++) {
      // The image's ENTRYPOINT runs the CLI with these args; its models are the repository's.
      const args = podArgs(job, index).map((a) =>
        a.replace(/^\/app\/models\//, `${ROOT}/models/`).replace(new RegExp(`^${mountPath}/`), `${data}/`),
      );
      expect(args).toContain(`${index}/${shards}`);
      const r = spawnSync(process.execPath, [join(ROOT, 'packages/cli/bin/ortline.js'), ...args], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0); // acceptRejects: the bad row is in b.rejects.csv
      for (const m of r.stderr.matchAll(/ortline score: \S+\/in\/(\w\.csv): 20 rows/g))
        scoredBy.set(m[1]!, [...(scoredBy.get(m[1]!) ?? []), index]);
    }
    expect([...scoredBy.keys()].sort()).toEqual(names);
    for (const [name, pods] of scoredBy) expect(pods, name).toHaveLength(1);
    const out = readdirSync(join(data, 'out')).sort();
    expect(out.filter((f) => !f.includes('.rejects.'))).toEqual(names);
    expect(readFileSync(join(data, 'out', 'b.rejects.csv'), 'utf8')).toContain('unknown_category');
    expect(
      readFileSync(join(data, 'out', 'a.csv'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(21);
  });

  it('takes the models from the same place as the gateway', () => {
    const { objects } = render({
      set: [...ENABLED, 'models.source=volume', 'models.volume.persistentVolumeClaim.claimName=ortline-models'],
    });
    const pod = one(objects, 'Job', JOB).spec.template.spec;
    const c = pod.containers[0];
    expect(c.args.slice(0, 3)).toEqual(['score', '--model', '/models/churn/1']);
    expect(c.volumeMounts).toContainEqual({ name: 'models', mountPath: '/models', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'models', persistentVolumeClaim: { claimName: 'ortline-models' } });
  });

  it('refuses values that could not work, saying why', () => {
    const cases: [string[], RegExp][] = [
      [['bulkJob.enabled=true'], /bulkJob.volume must be the Volume source/],
      [[...ENABLED, 'bulkJob.shards=2', 'bulkJob.parallelism=3'], /parallelism=3 exceeds bulkJob.shards=2/],
      [[...ENABLED, 'bulkJob.output=in'], /must be different folders/],
      [[...ENABLED, 'bulkJob.model=churn'], /bulkJob\/model/],
    ];
    for (const [set, message] of cases) {
      const r = helmTemplate({ set });
      expect(r.status, set.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
  });
});
