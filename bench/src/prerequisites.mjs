// What a run needs before it measures: the FastAPI peer's venv (its own idempotent set-up script)
// and a load generator. Installs no system packages: wrk comes from
// scripts/install-debian-packages.sh; without it the run uses autocannon and says so.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './common.mjs';
import { wrkVersion } from './load.mjs';

/** Runs bench/peers/fastapi/setup.sh; exits the process when it fails. */
export function setUpFastapiPeer(log) {
  log('FastAPI peer: bench/peers/fastapi/setup.sh');
  const r = spawnSync('bash', [join(repoRoot, 'bench/peers/fastapi/setup.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) {
    console.error('bench: the FastAPI peer could not be set up (bench/peers/fastapi/setup.sh)');
    process.exit(1);
  }
}

/** The load generator to use for `choice` (auto | wrk | autocannon), and a note when it fell back. */
export function pickLoadGenerator(choice) {
  if (choice === 'auto') {
    if (wrkVersion()) return { tool: 'wrk', note: '' };
    return { tool: 'autocannon', note: 'wrk not installed (scripts/install-debian-packages.sh): autocannon instead' };
  }
  if (choice === 'wrk' && !wrkVersion()) {
    console.error('bench: --load-generator wrk, but wrk is not installed (bash scripts/install-debian-packages.sh)');
    process.exit(1);
  }
  if (!['wrk', 'autocannon'].includes(choice)) {
    console.error('bench: --load-generator must be auto, wrk or autocannon');
    process.exit(2);
  }
  return { tool: choice, note: '' };
}
