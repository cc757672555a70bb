#!/usr/bin/env node
// Dependency audit, run by the test command after lint:
//   npm side   `pnpm audit --prod --json`: the packages the gateway and scorer ship with; a high or
//              critical advisory fails the run
//   PyPI side  pip-audit over the training environment as installed (pip freeze, no resolution):
//              pip-audit reports no severity, so every finding fails the run
// Findings accepted on purpose are listed in scripts/audit-allowlist.json, each with its reason.
// A registry that does not answer audit queries (some mirrors and proxies do not) is reported as
// "not audited" and does not fail the run; `--require` makes it fail (exit 2).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FAILING_NPM = new Set(['high', 'critical']);

/** Findings of `pnpm audit --json`, or null when the registry gave no audit. */
export function npmFindings(report) {
  if (report?.error !== undefined || typeof report?.advisories !== 'object') return null;
  return Object.values(report.advisories).map((a) => ({
    ecosystem: 'npm',
    package: a.module_name,
    id: a.github_advisory_id ?? String(a.id),
    severity: a.severity,
    title: a.title,
    failing: FAILING_NPM.has(a.severity),
  }));
}

/** Findings of `pip-audit -f json`, or null when no dependency could be audited. */
export function pipFindings(report) {
  const deps = report?.dependencies;
  if (!Array.isArray(deps) || deps.length === 0 || deps.every((d) => d.skip_reason !== undefined)) return null;
  return deps.flatMap((d) =>
    (d.vulns ?? []).map((v) => ({
      ecosystem: 'pypi',
      package: d.name,
      id: v.id,
      severity: 'unknown',
      title: (v.description ?? '').split('\n')[0].slice(0, 120),
      failing: true,
    })),
  );
}

/** Reads and checks the allowlist: {"accepted": [{id, package, reason}]}, every reason said. */
export function readAllowlist(text) {
  const list = JSON.parse(text).accepted;
  if (!Array.isArray(list)) throw new Error('audit-allowlist.json: "accepted" must be an array');
  for (const [i, e] of list.entries()) {
    for (const k of ['id', 'package', 'reason'])
      if (typeof e?.[k] !== 'string' || e[k].trim() === '')
        throw new Error(`audit-allowlist.json accepted[${i}]: "${k}" must be a non-empty string`);
  }
  return list;
}

/** The findings that fail the run: failing ones not on the allowlist (same id and package). */
export function judge(findings, allowlist) {
  const allowed = new Set(allowlist.map((e) => `${e.package}\u0000${e.id}`));
  return findings.filter((f) => f.failing && !allowed.has(`${f.package}\u0000${f.id}`));
}

function runJson(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000 });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return undefined;
  }
}

function pipReport() {
  const python = join(ROOT, 'models', 'training', '.venv', 'bin', 'python');
  const pipAudit = join(ROOT, '.tools', 'check-venv', 'bin', 'pip-audit');
  if (!existsSync(python) || !existsSync(pipAudit)) return undefined;
  const frozen = join(tmpdir(), `ortline-audit-${process.pid}.txt`);
  writeFileSync(
    frozen,
    execFileSync(python, ['-m', 'pip', 'freeze', '--disable-pip-version-check'], { encoding: 'utf8' }),
  );
  // Pinned and installed already: no resolution, no second environment.
  try {
    return runJson(pipAudit, ['-r', frozen, '--no-deps', '--disable-pip', '--progress-spinner', 'off', '-f', 'json']);
  } finally {
    rmSync(frozen, { force: true });
  }
}

function main() {
  const require = process.argv.includes('--require');
  const allowlist = readAllowlist(readFileSync(join(ROOT, 'scripts', 'audit-allowlist.json'), 'utf8'));
  const pip = pipReport();
  const sides = [
    ['npm (pnpm audit --prod)', npmFindings(runJson('pnpm', ['audit', '--prod', '--json']))],
    ['PyPI (pip-audit, training environment)', pip === undefined ? undefined : pipFindings(pip)],
  ];
  let failed = 0;
  let unaudited = 0;
  for (const [name, findings] of sides) {
    if (findings === null || findings === undefined) {
      unaudited++;
      const why =
        findings === null
          ? 'the registry does not answer audit queries from here'
          : 'pip-audit or the training environment is missing: run bash scripts/setup-dev.sh';
      console.log(`audit: ${name}: not audited (${why})`);
      continue;
    }
    const bad = judge(findings, allowlist);
    failed += bad.length;
    console.log(`audit: ${name}: ${findings.length} finding(s), ${bad.length} failing`);
    for (const f of bad) console.log(`  ${f.severity} ${f.package} ${f.id}: ${f.title}`);
  }
  if (failed > 0) {
    console.log('audit: failed; upgrade, or accept in scripts/audit-allowlist.json with the reason');
    process.exit(1);
  }
  if (unaudited > 0 && require) process.exit(2);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
