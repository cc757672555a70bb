#!/usr/bin/env node
// Kept for the commands already written down: the gateway and the uWS echo ceiling over HTTP, and
// the gateway's WebSocket stream; the same as
//   node bench/src/run.mjs --parts http,ws --systems ortline,uws-echo [options]
// (see bench/src/run.mjs for the options; the whole suite is `pnpm bench`).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const run = fileURLToPath(new URL('./run.mjs', import.meta.url));
const r = spawnSync(
  process.execPath,
  [run, '--parts', 'http,ws', '--systems', 'ortline,uws-echo', ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
