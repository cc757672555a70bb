import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** models/<name>/<version>: the ACTIVE file's version, else the highest numeric version. */
export function activeModelDir(name: string): string {
  const base = `${repoRoot}models/${name}`;
  const pointer = `${base}/ACTIVE`;
  if (existsSync(pointer)) return `${base}/${readFileSync(pointer, 'utf8').trim()}`;
  const versions = readdirSync(base)
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .sort((a, b) => b - a);
  if (versions.length === 0) throw new Error(`no versions under ${base}`);
  return `${base}/${versions[0]}`;
}
