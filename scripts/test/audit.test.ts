// The dependency audit's judgement (scripts/audit.mjs) over reports in the shapes pnpm audit and
// pip-audit print, the allowlist's rules, and one real run of the script on this checkout.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script, typed by its use here
import { judge, npmFindings, pipFindings, readAllowlist } from '../audit.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

const npmReport = {
  advisories: {
    '1099': {
      id: 1099,
      github_advisory_id: 'GHSA-aaaa',
      module_name: 'left',
      severity: 'high',
      title: 'bad',
      findings: [],
    },
    '1100': { id: 1100, module_name: 'right', severity: 'moderate', title: 'meh', findings: [] },
    '1101': {
      id: 1101,
      github_advisory_id: 'GHSA-cccc',
      module_name: 'up',
      severity: 'critical',
      title: 'worse',
      findings: [],
    },
  },
  metadata: { vulnerabilities: { high: 1, moderate: 1, critical: 1 } },
};
const pipReport = {
  dependencies: [
    { name: 'numpy', version: '1.26.4', vulns: [] },
    {
      name: 'mlflow',
      version: '2.17.2',
      vulns: [{ id: 'PYSEC-2025-1', fix_versions: ['2.18.0'], description: 'x\ny' }],
    },
    { name: 'local-thing', skip_reason: 'Dependency not found on PyPI' },
  ],
  fixes: [],
};

describe('dependency audit', () => {
  it('fails on high and critical npm advisories, not on moderate ones', () => {
    const bad = judge(npmFindings(npmReport), []);
    expect(bad.map((f: { id: string }) => f.id)).toEqual(['GHSA-aaaa', 'GHSA-cccc']);
  });

  it('fails on every PyPI finding (pip-audit reports no severity)', () => {
    const findings = pipFindings(pipReport);
    expect(findings).toEqual([expect.objectContaining({ package: 'mlflow', id: 'PYSEC-2025-1', title: 'x' })]);
    expect(judge(findings, [])).toHaveLength(1);
  });

  it('an allowlisted advisory passes only for its own package', () => {
    const allow = [{ id: 'GHSA-aaaa', package: 'left', reason: 'not reachable from our code' }];
    expect(judge(npmFindings(npmReport), allow).map((f: { id: string }) => f.id)).toEqual(['GHSA-cccc']);
    const elsewhere = [{ id: 'GHSA-aaaa', package: 'other', reason: 'r' }];
    expect(judge(npmFindings(npmReport), elsewhere)).toHaveLength(2);
  });

  it('a registry that does not answer is "not audited", not "clean"', () => {
    expect(npmFindings({ error: { code: 'ERR_PNPM_AUDIT_BAD_RESPONSE', message: '405' } })).toBeNull();
    expect(npmFindings(undefined)).toBeNull();
    expect(pipFindings({ dependencies: [{ name: 'a', skip_reason: 'not found' }] })).toBeNull();
  });

  it('the allowlist needs an id, a package and a reason for every entry', () => {
    expect(() => readAllowlist('{"accepted": [{"id": "GHSA-1", "package": "p"}]}')).toThrow(/"reason" must be/);
    expect(() => readAllowlist('[]')).toThrow(/"accepted" must be an array/);
    expect(readAllowlist(readFileSync(join(root, 'scripts', 'audit-allowlist.json'), 'utf8'))).toBeInstanceOf(Array);
  });

  it('runs on this checkout: each side audited or said not to be, and no failing finding', () => {
    const r = spawnSync('node', [join(root, 'scripts', 'audit.mjs')], { encoding: 'utf8', timeout: 300_000 });
    expect(r.stdout).toMatch(/^audit: npm \(pnpm audit --prod\): (not audited|\d+ finding)/m);
    expect(r.stdout).toMatch(/^audit: PyPI \(pip-audit, training environment\): (not audited|\d+ finding)/m);
    expect(r.status, r.stdout).toBe(0);
  }, 300_000);
});
