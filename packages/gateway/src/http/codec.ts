// Body formats: JSON and MessagePack, chosen by Content-Type (request) and Accept (response).
import { Packr, Unpackr } from 'msgpackr';

export const JSON_FORMAT = 0;
export const MSGPACK_FORMAT = 1;
export type Format = typeof JSON_FORMAT | typeof MSGPACK_FORMAT;
export const UNSUPPORTED = -1;

// Plain MessagePack, no msgpackr record extension: any MessagePack client can read and write it.
// 64-bit integers decode to numbers, as the same value in JSON would (MessagePack encoders use
// them for anything past 32 bits; as BigInt they would fail every numeric feature).
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** The format of a request body by its Content-Type; a missing Content-Type means JSON. */
export function requestFormat(contentType: string): Format | typeof UNSUPPORTED {
  if (contentType === '' || contentType === 'application/json') return JSON_FORMAT;
  const semi = contentType.indexOf(';');
  const mt = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (mt === 'application/json' || (mt.startsWith('application/') && mt.endsWith('+json'))) return JSON_FORMAT;
  if (mt === 'application/msgpack' || mt === 'application/x-msgpack' || mt === 'application/vnd.msgpack')
    return MSGPACK_FORMAT;
  return UNSUPPORTED;
}

/** The format of the answer: what Accept asks for, else the request's own format. */
export function responseFormat(accept: string, fallback: Format): Format {
  if (accept === '' || accept === '*/*') return fallback;
  if (accept.includes('msgpack')) {
    // "application/json, application/msgpack;q=0.5": the first listed wins.
    const j = accept.indexOf('json');
    return j >= 0 && j < accept.indexOf('msgpack') ? JSON_FORMAT : MSGPACK_FORMAT;
  }
  return JSON_FORMAT;
}

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/**
 * Decodes a body. `bytes` may be a view over memory uWebSockets.js reclaims after the current
 * callback: JSON is decoded into a string at once; MessagePack is copied first because its
 * binary values would otherwise point into that memory.
 */
export function decodeBody(bytes: Uint8Array, format: Format): unknown {
  if (format === JSON_FORMAT) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new DecodeError(`body is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (bytes.byteLength === 0) throw new DecodeError('body is empty; expected a MessagePack value');
  try {
    return unpackr.unpack(Buffer.from(bytes));
  } catch (err) {
    throw new DecodeError(`body is not valid MessagePack: ${(err as Error).message}`);
  }
}

export function packMsgpack(value: unknown): Buffer {
  return packr.pack(value);
}
