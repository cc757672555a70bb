#!/usr/bin/env node
// The `ortline` command: see `ortline --help`. Needs the package built (dist/).
import { main } from '../dist/cli.js';

const code = await main(process.argv.slice(2));
// Exit explicitly: native handles (ONNX Runtime threads, uWS) must not keep a stopped server alive.
process.exit(code);
