// pino, JSON lines on stdout. Per-request logging is chosen once at start-up: when off, the
// request path builds nothing for it.
import { type Logger, pino } from 'pino';
import type { GatewayConfig } from './config/options.js';

export type { Logger };

export function createLogger(config: GatewayConfig, destination?: pino.DestinationStream): Logger {
  return pino(
    { level: config.log.level, base: { service: 'ortline-gateway', pid: process.pid } },
    destination ?? pino.destination({ sync: false }),
  );
}

export interface RequestLogEntry {
  readonly reqId: string;
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly durationMs: number;
}

export type RequestLogger = (entry: RequestLogEntry) => void;

/** Undefined when request logging is off: the request path then skips it entirely. */
export function requestLogger(config: GatewayConfig, log: Logger): RequestLogger | undefined {
  if (!config.log.requests || !log.isLevelEnabled('info')) return undefined;
  return (e) => log.info(e, 'request');
}

/** Request ids: a per-process random prefix and a counter; unique without a syscall per id. */
export class IdSource {
  private readonly prefix: string;
  private n = 0;
  constructor(prefix: string) {
    this.prefix = prefix;
  }
  next(): string {
    return this.prefix + (++this.n).toString(36);
  }
}
