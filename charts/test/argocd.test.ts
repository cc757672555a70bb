// deploy/argocd/application.yaml: an Argo CD Application (a custom resource, so kubernetes-validate
// has no schema for it; its fields are checked here) that points at this chart, with automated
// sync, self-heal and prune, and whose Helm source renders.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { helmTemplate, ROOT, requireTools, yamlDocs } from './helpers.js';

beforeAll(requireTools);

describe('Argo CD Application', () => {
  let app: any;
  beforeAll(() => {
    const docs = yamlDocs(readFileSync(join(ROOT, 'deploy/argocd/application.yaml'), 'utf8'));
    expect(docs).toHaveLength(1);
    app = docs[0];
  });

  it('is an argoproj.io/v1alpha1 Application in the argocd namespace', () => {
    expect(app.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(app.kind).toBe('Application');
    expect(app.metadata.namespace).toBe('argocd');
    expect(app.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(app.spec.project).toBeTruthy();
    // Only the fields Argo CD knows (a typo here is silently ignored by the API server).
    for (const k of Object.keys(app.spec))
      expect([
        'project',
        'source',
        'sources',
        'destination',
        'syncPolicy',
        'ignoreDifferences',
        'info',
        'revisionHistoryLimit',
      ]).toContain(k);
  });

  it('syncs automatically, heals drift, prunes, and creates the namespace', () => {
    expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(app.spec.syncPolicy.syncOptions).toContain('CreateNamespace=true');
    expect(app.spec.syncPolicy.retry.limit).toBeGreaterThan(0);
  });

  it('points at the chart in this repository, through a placeholder URL that cannot be mistaken for a real one', () => {
    const src = app.spec.source;
    const url = new URL(src.repoURL);
    expect(url.hostname === 'example.com' || url.hostname.endsWith('.example.com')).toBe(true);
    expect(src.path).toBe('charts/ortline');
    expect(existsSync(join(ROOT, src.path, 'Chart.yaml'))).toBe(true);
    expect(src.targetRevision).toBeTruthy();
    for (const f of src.helm.valueFiles) expect(existsSync(join(ROOT, src.path, f)), f).toBe(true);
  });

  it('deploys to the in-cluster API server, in a namespace of its own', () => {
    expect(app.spec.destination.server).toBe('https://kubernetes.default.svc');
    expect(app.spec.destination.namespace).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(app.spec.destination.namespace).not.toBe('default');
  });

  it('what Argo CD renders (chart + its value files) renders cleanly', () => {
    const r = helmTemplate({ values: app.spec.source.helm.valueFiles });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('kind: Deployment');
  });
});
