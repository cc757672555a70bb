// uWebSockets.js, and whether its native binding is what actually loaded. The package silently
// falls back to a pure-JS server (several times slower) when no binary matches this Node ABI;
// the gateway refuses that unless `allowUwsFallback` says otherwise.

import uWS from 'uWebSockets.js';
import { createRequire } from 'node:module';

export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
export { uWS };

export interface UwsBinding {
  /** True when a uws_*.node binary is loaded. */
  readonly native: boolean;
  /** Path of the loaded binary, when native. */
  readonly path: string | undefined;
}

export function uwsBinding(): UwsBinding {
  const require = createRequire(import.meta.url);
  // Importing the package loaded it through the CommonJS loader, which records the .node file.
  const path = Object.keys(require.cache).find((k) => /[\\/]uws_[^\\/]+\.node$/.test(k));
  return { native: path !== undefined, path };
}

/** Closes every socket of the app. Present in the binding, missing from its typings. */
export function closeApp(app: uWS.TemplatedApp): void {
  (app as uWS.TemplatedApp & { close(): void }).close();
}
