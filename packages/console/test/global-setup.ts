// Before any test file runs (once, not per worker): builds the console when a source file is
// newer than its build, so that two workers never rebuild it under each other's gateway. The
// set-up builds it too; this only matters while editing.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestIn } from '../../gateway/test/helpers.js';

const consoleDir = fileURLToPath(new URL('../', import.meta.url));

export default function setup(): void {
  const page = join(consoleDir, 'dist', 'index.html');
  if (existsSync(page) && statSync(page).mtimeMs >= newestIn(join(consoleDir, 'src'))) return;
  const r = spawnSync(process.execPath, [join(consoleDir, 'build.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`console build failed:\n${r.stdout}\n${r.stderr}`);
}
