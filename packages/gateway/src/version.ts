import { createRequire } from 'node:module';

/** This package's version (package.json). */
export const GATEWAY_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string })
  .version;
