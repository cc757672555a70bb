// What matters in the rendered objects: probes on the right paths and port, a locked-down
// security context, a termination grace that covers preStop plus the gateway's drain, a sane
// autoscaler and disruption budget, the config file mounted where the gateway reads it, Redis
// wired through REDIS_URL, models delivered where MODELS_DIR points, ServiceMonitor only when
// asked for, NetworkPolicy selecting the right pods.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../packages/gateway/src/config/options.js';
import { loadCliConfig, parseArgs } from '../../packages/gateway/src/config.js';
import {
  CHART,
  containerConfigInputs,
  type K8sObject,
  matches,
  objectsOf,
  one,
  podSpecs,
  RELEASE,
  type RenderOptions,
  ROOT,
  render,
  requireTools,
  yamlDocs,
} from './helpers.js';

beforeAll(requireTools);

const PRODUCTION: RenderOptions = { values: ['values-production.yaml'] };
const chartValues = (): any => yamlDocs(readFileSync(join(CHART, 'values.yaml'), 'utf8'))[0];

const gatewayDeployment = (objects: K8sObject[]) => one(objects, 'Deployment', RELEASE);
const gatewayContainer = (objects: K8sObject[]) => {
  const c = gatewayDeployment(objects).spec.template.spec.containers.find((x: any) => x.name === 'gateway');
  if (!c) throw new Error('no gateway container');
  return c;
};
const envOf = (c: any): Record<string, any> => Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e]));
/** The gateway configuration the pod would run with, resolved by the gateway's own loader. */
const resolvedConfig = (objects: K8sObject[]) => {
  const { args, env } = containerConfigInputs(objects);
  return loadCliConfig(parseArgs(args), env);
};
/** A probe's or rule's port, by name or number, as the container port number. */
/** How long the preStop hook's Node waits, from its script. */
const preStopSleepMs = (command: string[]): number =>
  Number(/^setTimeout\(\(\) => \{\}, (\d+)\)$/.exec(command[2]!)![1]);
const portNumber = (c: any, port: string | number): number => {
  if (typeof port === 'number') return port;
  const p = (c.ports ?? []).find((x: any) => x.name === port);
  if (!p) throw new Error(`no container port named ${port}`);
  return p.containerPort;
};

for (const [variant, opts] of [
  ['default values', {}],
  ['values-production.yaml', PRODUCTION],
] as [string, RenderOptions][]) {
  describe(variant, () => {
    let objects: K8sObject[] = [];
    beforeAll(() => {
      objects = render(opts).objects;
    });

    it('liveness probes /healthz and readiness /readyz, on the port the gateway listens on', () => {
      const c = gatewayContainer(objects);
      const config = resolvedConfig(objects);
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(portNumber(c, c.livenessProbe.httpGet.port)).toBe(config.port);
      expect(portNumber(c, c.readinessProbe.httpGet.port)).toBe(config.port);
      // A liveness failure restarts the pod: it must tolerate a few slow answers.
      expect(c.livenessProbe.failureThreshold * c.livenessProbe.periodSeconds).toBeGreaterThanOrEqual(20);
      expect(c.readinessProbe.timeoutSeconds).toBeGreaterThanOrEqual(1);
    });

    it('the gateway listens on every interface, on the port the Service targets', () => {
      const config = resolvedConfig(objects);
      const c = gatewayContainer(objects);
      const svc = one(objects, 'Service');
      expect(config.host).toBe('0.0.0.0');
      const http = svc.spec.ports.find((p: any) => p.name === 'http');
      expect(portNumber(c, http.targetPort)).toBe(config.port);
      expect(matches(svc.spec.selector, gatewayDeployment(objects).spec.template.metadata.labels)).toBe(true);
    });

    it('every pod runs as non-root, read-only, without privilege escalation or capabilities', () => {
      const pods = podSpecs(objects);
      expect(pods.length).toBeGreaterThan(0);
      for (const { owner, spec } of pods) {
        expect(spec.hostNetwork ?? false, owner).toBe(false);
        expect(spec.hostPID ?? false, owner).toBe(false);
        expect(spec.hostIPC ?? false, owner).toBe(false);
        expect(spec.automountServiceAccountToken, owner).toBe(false);
        expect(spec.securityContext?.runAsNonRoot, owner).toBe(true);
        expect(spec.securityContext?.runAsUser, owner).toBeGreaterThan(0);
        expect(spec.securityContext?.seccompProfile?.type, owner).toBe('RuntimeDefault');
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
          const sc = c.securityContext ?? {};
          const where = `${owner} ${c.name}`;
          expect(sc.runAsNonRoot ?? spec.securityContext.runAsNonRoot, where).toBe(true);
          expect(sc.readOnlyRootFilesystem, where).toBe(true);
          expect(sc.allowPrivilegeEscalation, where).toBe(false);
          expect(sc.privileged ?? false, where).toBe(false);
          expect(sc.capabilities?.drop, where).toContain('ALL');
          expect(sc.capabilities?.add ?? [], where).toEqual([]);
          expect(c.resources?.limits?.memory, where).toBeTruthy();
          expect(c.resources?.requests?.cpu, where).toBeTruthy();
        }
      }
    });

    it('the read-only root filesystem leaves the gateway a writable /tmp', () => {
      const spec = gatewayDeployment(objects).spec.template.spec;
      const mount = gatewayContainer(objects).volumeMounts.find((m: any) => m.mountPath === '/tmp');
      expect(mount?.readOnly ?? false).toBe(false);
      expect(spec.volumes.find((v: any) => v.name === mount.name).emptyDir).toBeDefined();
    });

    it('terminationGracePeriodSeconds covers preStop + the drain the gateway will actually use + a margin', () => {
      const spec = gatewayDeployment(objects).spec.template.spec;
      const c = gatewayContainer(objects);
      const preStop = c.lifecycle.preStop.exec.command;
      expect(preStop.slice(0, 2)).toEqual(['/usr/local/bin/node', '-e']);
      const preStopSeconds = preStopSleepMs(preStop) / 1000;
      expect(preStopSeconds).toBeGreaterThanOrEqual(3); // endpoint removal needs a few seconds to propagate
      // The drain timeout as the gateway resolves it from the rendered config file, environment and
      // flags (its default when nothing sets it).
      const drainSeconds = resolvedConfig(objects).shutdown.drainTimeoutMs / 1000;
      // After the drain: a 100 ms quiet spell, up to 0.5 s closing WebSockets, closing the models
      // and the cache, flushing logs. 2 s covers that; the kubelet's SIGKILL must come later.
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStopSeconds + drainSeconds + 2);
    });

    it('the ConfigMap is mounted read-only where ORTLINE_CONFIG points, and rolls the pods when it changes', () => {
      const dep = gatewayDeployment(objects);
      const c = gatewayContainer(objects);
      const cm = one(objects, 'ConfigMap');
      const { mountedAt } = containerConfigInputs(objects);
      const volume = dep.spec.template.spec.volumes.find((v: any) => v.configMap?.name === cm.metadata.name);
      expect(volume).toBeDefined();
      const mount = c.volumeMounts.find((m: any) => m.name === volume.name);
      expect(mount.readOnly).toBe(true);
      expect(mountedAt).toBe(`${mount.mountPath}/config.json`);
      expect(Object.keys(cm.data!)).toContain('config.json');
      expect(() => JSON.parse(cm.data!['config.json']!)).not.toThrow();
      expect(dep.spec.template.metadata.annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    });

    it('the HorizontalPodAutoscaler scales the gateway Deployment on CPU, and the Deployment leaves replicas to it', () => {
      const hpa = one(objects, 'HorizontalPodAutoscaler');
      const dep = gatewayDeployment(objects);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: dep.metadata.name });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      const cpu = hpa.spec.metrics.find((m: any) => m.resource?.name === 'cpu');
      expect(cpu.resource.target.averageUtilization).toBeGreaterThan(0);
      expect(cpu.resource.target.averageUtilization).toBeLessThanOrEqual(90);
      // Utilisation is relative to requests: without a CPU request the HPA cannot work.
      expect(gatewayContainer(objects).resources.requests.cpu).toBeTruthy();
      expect(dep.spec.replicas).toBeUndefined();
      // Scale down slowly (a burst right after a scale-down would find too few pods).
      expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(60);
    });

    it('the PodDisruptionBudget covers the gateway pods and always lets one go', () => {
      const pdb = one(objects, 'PodDisruptionBudget');
      const hpa = one(objects, 'HorizontalPodAutoscaler');
      expect(matches(pdb.spec.selector.matchLabels, gatewayDeployment(objects).spec.template.metadata.labels)).toBe(
        true,
      );
      if (pdb.spec.maxUnavailable !== undefined) {
        expect(pdb.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
        expect(pdb.spec.minAvailable).toBeUndefined();
      } else {
        expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
      }
    });

    it('rollouts surge first and never drop capacity', () => {
      const s = gatewayDeployment(objects).spec.strategy;
      expect(s.type).toBe('RollingUpdate');
      expect(s.rollingUpdate.maxUnavailable).toBe(0);
    });

    it('the NetworkPolicy selects the gateway pods and opens only the http port', () => {
      const np = one(objects, 'NetworkPolicy');
      const c = gatewayContainer(objects);
      expect(matches(np.spec.podSelector.matchLabels, gatewayDeployment(objects).spec.template.metadata.labels)).toBe(
        true,
      );
      expect(np.spec.policyTypes).toEqual(expect.arrayContaining(['Ingress', 'Egress']));
      expect(np.spec.ingress.length).toBe(1);
      const ports = np.spec.ingress[0].ports.map((p: any) => portNumber(c, p.port));
      expect(ports).toEqual([resolvedConfig(objects).port]);
    });

    it('the image is the chart appVersion (or a pinned digest), never :latest', () => {
      const image: string = gatewayContainer(objects).image;
      const chart = yamlDocs(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'))[0];
      expect(image).not.toMatch(/:latest$/);
      expect(image).toMatch(new RegExp(`:${chart.appVersion.replace(/\./g, '\\.')}(@sha256:[0-9a-f]{64})?$`));
    });
  });
}

describe('environment', () => {
  it('every variable the chart gives the gateway is one the gateway reads', () => {
    // ORTLINE_CONFIG is read by the CLI (the config file); NODE_OPTIONS by Node. Everything else
    // must be the `env` of a gateway option, or the chart sets something nothing reads.
    const read = new Set(['ORTLINE_CONFIG', 'NODE_OPTIONS', ...OPTIONS.flatMap((o) => (o.env ? [o.env] : []))]);
    const { objects } = render({ ...PRODUCTION, set: ['admin.existingSecret.name=ortline-admin'] });
    const names = Object.keys(envOf(gatewayContainer(objects)));
    expect(names).toEqual(
      expect.arrayContaining([
        'HOST',
        'PORT',
        'MODELS_DIR',
        'ORTLINE_CONFIG',
        'REDIS_URL',
        'ORTLINE_ADMIN_TOKEN',
        'NODE_OPTIONS',
      ]),
    );
    for (const n of names) expect(read, n).toContain(n);
  });
});

describe('production placement', () => {
  it('topology spread constraints (templated in values-production.yaml) select the gateway pods', () => {
    const { objects } = render(PRODUCTION);
    const tmpl = gatewayDeployment(objects).spec.template;
    const constraints = tmpl.spec.topologySpreadConstraints;
    expect(constraints.map((c: any) => c.topologyKey).sort()).toEqual([
      'kubernetes.io/hostname',
      'topology.kubernetes.io/zone',
    ]);
    for (const c of constraints)
      expect(matches(c.labelSelector.matchLabels, tmpl.metadata.labels), c.topologyKey).toBe(true);
  });
});

describe('drain timing follows the values', () => {
  it("the chart's default drain is the gateway's own default (from its option table)", () => {
    const gatewayDefault = OPTIONS.find((o) => o.key === 'shutdown.drainTimeoutMs')!.default as number;
    expect(chartValues().shutdown.drainTimeoutSeconds * 1000).toBe(gatewayDefault);
  });

  it('a longer drain lengthens the grace period and reaches the gateway', () => {
    const { objects } = render({ set: ['shutdown.drainTimeoutSeconds=120', 'shutdown.preStopSleepSeconds=7'] });
    expect(resolvedConfig(objects).shutdown.drainTimeoutMs).toBe(120_000);
    expect(preStopSleepMs(gatewayContainer(objects).lifecycle.preStop.exec.command)).toBe(7000);
    expect(gatewayDeployment(objects).spec.template.spec.terminationGracePeriodSeconds).toBe(7 + 120 + 5);
  });

  it('an explicit grace period above the sum is kept', () => {
    const { objects } = render({ set: ['shutdown.terminationGracePeriodSeconds=90'] });
    expect(gatewayDeployment(objects).spec.template.spec.terminationGracePeriodSeconds).toBe(90);
  });

  it('a config change changes the checksum that rolls the pods', () => {
    const a = gatewayDeployment(render().objects).spec.template.metadata.annotations['checksum/config'];
    const b = gatewayDeployment(render({ set: ['config.log.level=debug'] }).objects).spec.template.metadata.annotations[
      'checksum/config'
    ];
    expect(a).not.toBe(b);
  });
});

describe('Redis (L2) wiring', () => {
  it('default: no Redis objects and no REDIS_URL (L1 only)', () => {
    const { objects } = render();
    expect(envOf(gatewayContainer(objects)).REDIS_URL).toBeUndefined();
    expect(objects.filter((o) => o.metadata.name.endsWith('-redis'))).toEqual([]);
    expect(resolvedConfig(objects).redisUrl).toBeNull();
  });

  it('external URL: REDIS_URL carries it to the gateway', () => {
    const { objects } = render({ set: ['redis.url=rediss://cache.example.com:6380/2'] });
    expect(envOf(gatewayContainer(objects)).REDIS_URL.value).toBe('rediss://cache.example.com:6380/2');
    expect(resolvedConfig(objects).redisUrl).toBe('rediss://cache.example.com:6380/2');
    expect(objects.filter((o) => o.metadata.name.endsWith('-redis'))).toEqual([]);
  });

  it('external Secret: REDIS_URL comes from the Secret, never from the ConfigMap', () => {
    const { objects } = render(PRODUCTION);
    const env = envOf(gatewayContainer(objects)).REDIS_URL;
    expect(env.value).toBeUndefined();
    expect(env.valueFrom.secretKeyRef).toEqual({ name: 'ortline-redis', key: 'redis-url' });
    expect(one(objects, 'ConfigMap').data!['config.json']).not.toMatch(/redis:\/\/|rediss:\/\//);
  });

  it('built-in: a Redis Deployment and Service, REDIS_URL naming that Service, reachable only from the gateway', () => {
    const { objects } = render({ set: ['redis.enabled=true', 'networkPolicy.egress.allowAll=false'] });
    const url = new URL(envOf(gatewayContainer(objects)).REDIS_URL.value);
    const svc = one(objects, 'Service', `${RELEASE}-redis`);
    const dep = one(objects, 'Deployment', `${RELEASE}-redis`);
    expect(url.protocol).toBe('redis:');
    expect(url.hostname).toBe(svc.metadata.name);
    expect(Number(url.port)).toBe(svc.spec.ports[0].port);
    const podLabels = dep.spec.template.metadata.labels;
    expect(matches(svc.spec.selector, podLabels)).toBe(true);
    // The gateway Service must not pick up the Redis pod, nor the Redis Service the gateway.
    expect(matches(one(objects, 'Service').spec.selector, podLabels)).toBe(false);
    expect(matches(svc.spec.selector, gatewayDeployment(objects).spec.template.metadata.labels)).toBe(false);
    // A cache: no persistence, LRU eviction under a memory cap below the container limit.
    const args: string[] = dep.spec.template.spec.containers[0].args;
    expect(args[args.indexOf('--save') + 1]).toBe('');
    expect(args[args.indexOf('--maxmemory-policy') + 1]).toBe('allkeys-lru');
    // Only the gateway pods may connect; the gateway may reach Redis even with restricted egress.
    const redisPolicy = one(objects, 'NetworkPolicy', `${RELEASE}-redis`);
    expect(matches(redisPolicy.spec.podSelector.matchLabels, podLabels)).toBe(true);
    expect(redisPolicy.spec.ingress).toHaveLength(1);
    expect(
      matches(
        redisPolicy.spec.ingress[0].from[0].podSelector.matchLabels,
        gatewayDeployment(objects).spec.template.metadata.labels,
      ),
    ).toBe(true);
    const egress = one(objects, 'NetworkPolicy').spec.egress;
    expect(
      egress.some(
        (r: any) =>
          r.to?.some((t: any) => t.podSelector && matches(t.podSelector.matchLabels, podLabels)) &&
          r.ports.some((p: any) => p.port === Number(url.port)),
      ),
    ).toBe(true);
    expect(egress.some((r: any) => r.ports?.some((p: any) => p.port === 53 && p.protocol === 'UDP'))).toBe(true);
  });

  it('the admin token comes from a Secret as ORTLINE_ADMIN_TOKEN', () => {
    const { objects } = render({ set: ['admin.existingSecret.name=ortline-admin'] });
    expect(envOf(gatewayContainer(objects)).ORTLINE_ADMIN_TOKEN.valueFrom.secretKeyRef).toEqual({
      name: 'ortline-admin',
      key: 'admin-token',
    });
    const none = render().objects;
    expect(envOf(gatewayContainer(none)).ORTLINE_ADMIN_TOKEN).toBeUndefined();
  });
});

describe('TLS', () => {
  it('tls.secretName mounts the Secret, points the gateway at its files, and the probes and ServiceMonitor speak HTTPS', () => {
    const { objects } = render({
      set: [
        'tls.secretName=ortline-tls',
        'serviceMonitor.enabled=true',
        'tls.serviceMonitorTlsConfig.serverName=ortline',
      ],
    });
    const c = gatewayContainer(objects);
    expect(envOf(c).ORTLINE_TLS_CERT.value).toBe('/etc/ortline-tls/tls.crt');
    expect(envOf(c).ORTLINE_TLS_KEY.value).toBe('/etc/ortline-tls/tls.key');
    expect(c.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/etc/ortline-tls', readOnly: true });
    const pod = objects.find((o: any) => o.kind === 'Deployment')!.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'ortline-tls', defaultMode: 0o440 } });
    expect(c.livenessProbe.httpGet.scheme).toBe('HTTPS');
    expect(c.readinessProbe.httpGet.scheme).toBe('HTTPS');
    const sm = objects.find((o: any) => o.kind === 'ServiceMonitor')!;
    expect(sm.spec.endpoints[0]).toMatchObject({ scheme: 'https', tlsConfig: { serverName: 'ortline' } });
  });

  it('without it: plain HTTP, nothing mounted', () => {
    const c = gatewayContainer(render().objects);
    expect(envOf(c).ORTLINE_TLS_CERT).toBeUndefined();
    expect(c.livenessProbe.httpGet.scheme).toBe('HTTP');
    expect(c.volumeMounts.some((m: any) => m.name === 'tls')).toBe(false);
  });
});

describe('model delivery', () => {
  it('image (default): MODELS_DIR is where the Dockerfile puts the models, nothing mounted over it', () => {
    const { objects } = render();
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const dir = resolvedConfig(objects).modelsDir;
    expect(dir).toBe('/app/models');
    expect(dockerfile).toMatch(new RegExp(`^COPY --chown=root:root models ${dir}$`, 'm'));
    expect(gatewayContainer(objects).volumeMounts.some((m: any) => dir.startsWith(m.mountPath))).toBe(false);
  });

  it('volume: the claim is mounted read-only where MODELS_DIR points', () => {
    const { objects } = render({
      set: ['models.source=volume', 'models.volume.persistentVolumeClaim.claimName=ortline-models'],
    });
    const spec = gatewayDeployment(objects).spec.template.spec;
    const dir = resolvedConfig(objects).modelsDir;
    const mount = gatewayContainer(objects).volumeMounts.find((m: any) => m.mountPath === dir);
    expect(mount.readOnly).toBe(true);
    expect(spec.volumes.find((v: any) => v.name === mount.name).persistentVolumeClaim.claimName).toBe('ortline-models');
  });

  it('init container: it fills an emptyDir at MODELS_DIR, which the gateway mounts read-only', () => {
    const { objects } = render({
      set: [
        'models.source=initContainer',
        'models.initContainer.image.repository=example/fetch',
        'models.initContainer.image.tag=1.2.3',
        'models.initContainer.command={fetch-models}',
      ],
    });
    const spec = gatewayDeployment(objects).spec.template.spec;
    const dir = resolvedConfig(objects).modelsDir;
    const init = spec.initContainers[0];
    expect(init.image).toBe('example/fetch:1.2.3');
    expect(envOf(init).MODELS_DIR.value).toBe(dir);
    const initMount = init.volumeMounts.find((m: any) => m.mountPath === dir);
    expect(initMount.readOnly ?? false).toBe(false);
    const mount = gatewayContainer(objects).volumeMounts.find((m: any) => m.mountPath === dir);
    expect(mount.name).toBe(initMount.name);
    expect(mount.readOnly).toBe(true);
    expect(spec.volumes.find((v: any) => v.name === mount.name).emptyDir).toBeDefined();
  });
});

describe('ServiceMonitor', () => {
  it('is not rendered unless enabled (its CRD may not exist)', () => {
    expect(objectsOf(render().objects, 'ServiceMonitor')).toEqual([]);
  });

  it('when enabled, scrapes /metrics on a port the gateway Service has, selecting only that Service', () => {
    const { objects } = render(PRODUCTION);
    const sm = one(objects, 'ServiceMonitor');
    const svc = one(objects, 'Service');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(matches(sm.spec.selector.matchLabels, svc.metadata.labels!)).toBe(true);
    expect(sm.spec.namespaceSelector.matchNames).toEqual([svc.metadata.namespace ?? 'ortline']);
    const ep = sm.spec.endpoints[0];
    expect(ep.path).toBe('/metrics');
    expect(svc.spec.ports.map((p: any) => p.name)).toContain(ep.port);
    expect(sm.metadata.labels!.release).toBe('kube-prometheus-stack');
    // The gateway serves /metrics only when metrics are on.
    expect(resolvedConfig(objects).metrics.enabled).toBe(true);
  });

  it('and is gone again when disabled in production values', () => {
    expect(
      objectsOf(render({ ...PRODUCTION, set: ['serviceMonitor.enabled=false'] }).objects, 'ServiceMonitor'),
    ).toEqual([]);
  });
});

describe('NetworkPolicy variants', () => {
  it('production restricts who may connect and where pods may go', () => {
    const { objects } = render(PRODUCTION);
    const np = one(objects, 'NetworkPolicy');
    expect(np.spec.ingress[0].from.length).toBeGreaterThan(0);
    expect(np.spec.egress.some((r: any) => Object.keys(r).length === 0)).toBe(false); // no allow-all rule
    // The helm test pod may still reach the gateway.
    const testPod = one(objects, 'Pod', `${RELEASE}-test-readyz`);
    expect(
      np.spec.ingress[0].from.some(
        (f: any) => f.podSelector && matches(f.podSelector.matchLabels, testPod.metadata.labels!),
      ),
    ).toBe(true);
  });

  it('the helm test pod is not a gateway pod (the Service must not route to it)', () => {
    const { objects } = render();
    const testPod = one(objects, 'Pod', `${RELEASE}-test-readyz`);
    expect(matches(one(objects, 'Service').spec.selector, testPod.metadata.labels!)).toBe(false);
  });

  it('can be turned off', () => {
    expect(objectsOf(render({ set: ['networkPolicy.enabled=false'] }).objects, 'NetworkPolicy')).toEqual([]);
  });
});

describe('autoscaling off', () => {
  it('the Deployment gets replicaCount and no HPA is rendered', () => {
    const { objects } = render({ set: ['autoscaling.enabled=false', 'replicaCount=4'] });
    expect(gatewayDeployment(objects).spec.replicas).toBe(4);
    expect(objectsOf(objects, 'HorizontalPodAutoscaler')).toEqual([]);
  });
});

describe('an image digest pins the exact build', () => {
  it('renders repository:tag@digest', () => {
    const digest = `sha256:${createHash('sha256').update('x').digest('hex')}`;
    const { objects } = render({ set: [`image.digest=${digest}`] });
    expect(gatewayContainer(objects).image).toBe(`ortline/gateway:0.1.0@${digest}`);
  });
});

describe('PrometheusRule', () => {
  it('is not rendered unless enabled (its CRD may not exist)', () => {
    expect(objectsOf(render().objects, 'PrometheusRule')).toEqual([]);
  });

  it('when enabled, carries deploy/prometheus/rules.yaml unchanged, with the labels asked for', () => {
    const { objects } = render({
      set: ['prometheusRule.enabled=true', 'prometheusRule.labels.release=kube-prometheus-stack'],
    });
    const rule = one(objects, 'PrometheusRule');
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.metadata.labels!.release).toBe('kube-prometheus-stack');
    expect(rule.metadata.labels!['app.kubernetes.io/name']).toBe('ortline');
    const file = yamlDocs(readFileSync(join(ROOT, 'deploy/prometheus/rules.yaml'), 'utf8'))[0];
    expect(rule.spec).toEqual(file);
    // Prometheus's own templates reach the operator untouched by Helm's.
    expect(JSON.stringify(rule.spec)).toContain('{{ $labels.instance }}');
  });
});

describe('Grafana dashboards', () => {
  it('are not rendered unless enabled', () => {
    expect(objectsOf(render().objects, 'ConfigMap').filter((c) => c.metadata.name.includes('dashboard'))).toEqual([]);
  });

  it('when enabled, one ConfigMap per dashboard, labelled for the sidecar, holding the JSON unchanged', () => {
    const { objects } = render({
      set: ['grafanaDashboards.enabled=true', 'grafanaDashboards.annotations.grafana_folder=ortline'],
    });
    const maps = objectsOf(objects, 'ConfigMap').filter((c) => c.metadata.name.startsWith('ortline-dashboard-'));
    expect(maps.map((m) => m.metadata.name).sort()).toEqual([
      'ortline-dashboard-model-health',
      'ortline-dashboard-service-overview',
    ]);
    for (const m of maps) {
      expect(m.metadata.labels!.grafana_dashboard).toBe('1');
      expect(m.metadata.annotations!.grafana_folder).toBe('ortline');
      const [file, json] = Object.entries(m.data!)[0]!;
      expect(JSON.parse(json)).toEqual(JSON.parse(readFileSync(join(CHART, 'files', 'dashboards', file), 'utf8')));
    }
  });
});
