// What one Kafka record becomes: its value read as the record the HTTP API takes (JSON or
// MessagePack: by the record's content-type header, else by its first byte), and the two things
// written back, an answer in the input's format (the HTTP API's answer fields, plus where the
// input was) or a dead letter in JSON (the error as the HTTP API would give it, where the input
// was, and its value as sent). Pure functions: the loop in stream-scorer.ts does the I/O.
import {
  type AnswerRenderer,
  DecodeError,
  decodeBody,
  type Format,
  JSON_FORMAT,
  MSGPACK_FORMAT,
  packMsgpack,
  requestFormat,
  UNSUPPORTED,
} from '@ortline/gateway';
import type { FeatureIssue } from '@ortline/scorer';

/** Where an input record was. */
export interface Source {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** The record's timestamp, in ms since the epoch (the producer's, or the broker's). */
  readonly timestamp: bigint;
}

/** A record that will not be scored: the gateway's error body, for the dead-letter topic. */
export interface Rejection {
  readonly code: 'MALFORMED_BODY' | 'UNSUPPORTED_MEDIA_TYPE' | 'INVALID_FEATURES';
  readonly message: string;
  readonly details: Record<string, unknown>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The first byte of a MessagePack map (fixmap, map 16, map 32): a record is a map. */
function startsMsgpackMap(value: Buffer): boolean {
  const b = value[0]!;
  return (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;
}

/**
 * The value as a record and its format, or why it is not one. The format is the record's
 * content-type header when it has one (as an HTTP body's), else MessagePack when the value
 * starts as a MessagePack map does (no JSON text can: those bytes are not ASCII), else JSON.
 */
export function decodeValue(
  value: Buffer | undefined | null,
  contentType: string | undefined,
): { record: unknown; format: Format } | { rejection: Rejection } {
  if (!value || value.length === 0)
    return { rejection: { code: 'MALFORMED_BODY', message: 'the record has no value', details: {} } };
  const format =
    contentType !== undefined ? requestFormat(contentType) : startsMsgpackMap(value) ? MSGPACK_FORMAT : JSON_FORMAT;
  if (format === UNSUPPORTED)
    return {
      rejection: {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: `content-type "${contentType}" is neither JSON nor MessagePack`,
        details: {},
      },
    };
  if (format === JSON_FORMAT) {
    // Decoded once, strictly: invalid UTF-8 is refused, not read with replacement characters.
    let text: string;
    try {
      text = utf8.decode(value);
    } catch {
      return { rejection: { code: 'MALFORMED_BODY', message: 'the value is not valid UTF-8', details: {} } };
    }
    try {
      return { record: JSON.parse(text), format };
    } catch (err) {
      return {
        rejection: {
          code: 'MALFORMED_BODY',
          message: `the value is not valid JSON: ${(err as Error).message}`,
          details: {},
        },
      };
    }
  }
  try {
    return { record: decodeBody(value, format), format };
  } catch (err) {
    const message = err instanceof DecodeError ? err.message.replace(/^body/, 'the value') : String(err);
    return { rejection: { code: 'MALFORMED_BODY', message, details: {} } };
  }
}

/** INVALID_FEATURES for one record's issues (their row is the record's place in its batch: dropped). */
export function invalidFeatures(issues: readonly FeatureIssue[]): Rejection {
  const listed = issues.map(({ row: _row, ...rest }) => ({ ...rest, message: rest.message.replace(/^row \d+: /, '') }));
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return {
    code: 'INVALID_FEATURES',
    message: `invalid features: ${listed[0]?.message ?? ''}${more}`,
    details: { issues: listed },
  };
}

/**
 * The answer in the input's format: the HTTP API's answer fields, then `partition` and `offset`
 * of the input record (`{"customer_id":...,"churn_probability":...,...,"partition":P,"offset":O}`).
 */
export function answerValue(answers: AnswerRenderer, record: unknown, p: number, from: Source, format: Format): Buffer {
  if (format === MSGPACK_FORMAT)
    return packMsgpack({ ...answers.object(record, p), partition: from.partition, offset: Number(from.offset) });
  const json = answers.json(record, p);
  return Buffer.from(`${json.slice(0, -1)},"partition":${from.partition},"offset":${from.offset}}`);
}

/**
 * The dead letter's JSON: `{"error":{code,message,details},"source":{topic,partition,offset,
 * timestamp},"value":"..."}`; the value as text when it is UTF-8, else `value_base64`.
 */
export function deadLetterValue(rejection: Rejection, from: Source, value: Buffer | undefined | null): string {
  const source = `{"topic":${JSON.stringify(from.topic)},"partition":${from.partition},"offset":${from.offset},"timestamp":${from.timestamp}}`;
  const error = JSON.stringify({ code: rejection.code, message: rejection.message, details: rejection.details });
  let body: string;
  if (!value) body = '"value":null';
  else {
    try {
      body = `"value":${JSON.stringify(utf8.decode(value))}`;
    } catch {
      body = `"value_base64":${JSON.stringify(value.toString('base64'))}`;
    }
  }
  return `{"error":${error},"source":${source},${body}}`;
}

/** The key an answer is produced with: the record's id when it has one, else the input's key. */
export function answerKey(
  answers: AnswerRenderer,
  record: unknown,
  inputKey: Buffer | undefined | null,
): Buffer | undefined {
  const id = answers.recordId(record);
  if (id !== null && id !== undefined) return Buffer.from(typeof id === 'string' ? id : JSON.stringify(id));
  return inputKey && inputKey.length > 0 ? inputKey : undefined;
}
