// A scoring request's deadline. The client may set one (`x-request-timeout-ms`, OIP
// `parameters.timeout`, a WebSocket frame's `timeout_ms`); the smallest it set wins, else the
// gateway's `requestTimeoutMs` applies (0: none). It counts from the request's arrival, so a slow
// body spends it too. Rows still queued when it passes are never run (the scorer's Batcher drops
// them) and the request gets 504 DEADLINE_EXCEEDED.
import { GatewayError } from '../errors.js';

export const TIMEOUT_HEADER = 'x-request-timeout-ms';
/** The longest deadline a client may ask for: an hour. */
export const MAX_TIMEOUT_MS = 3_600_000;

/** `x-request-timeout-ms`: '' (absent) gives undefined; anything but 1..MAX digits throws INVALID_REQUEST. */
export function timeoutFromHeader(text: string): number | undefined {
  if (text === '') return undefined;
  return checked(/^\d+$/.test(text) ? Number(text) : Number.NaN, text, TIMEOUT_HEADER);
}

/** A timeout field of a body (a number of ms): undefined when absent; else as the header, no strings. */
export function timeoutFromField(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  return checked(typeof value === 'number' ? value : Number.NaN, value, field);
}

function checked(ms: number, raw: unknown, field: string): number {
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > MAX_TIMEOUT_MS) {
    throw new GatewayError(
      'INVALID_REQUEST',
      `${field} must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${JSON.stringify(raw) ?? String(raw)}`,
      { field },
    );
  }
  return ms;
}

/** The deadline (`performance.now()` time) of a request that arrived at `start`, or undefined for none. */
export function deadlineOf(start: number, defaultMs: number, ...clientMs: (number | undefined)[]): number | undefined {
  let ms = Infinity;
  for (const c of clientMs) if (c !== undefined && c < ms) ms = c;
  if (ms === Infinity && defaultMs > 0) ms = defaultMs;
  return ms === Infinity ? undefined : start + ms;
}
