// What one Kafka record becomes: its value read as the record the HTTP API takes, and the two
// things written back, an answer (the HTTP API's answer fields, plus where the input was) or a
// dead letter (the error as the HTTP API would give it, where the input was, and its value as
// sent). Pure functions: the loop in stream-scorer.ts does the I/O.
import type { AnswerRenderer } from '@ortline/gateway';
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
  readonly code: 'MALFORMED_BODY' | 'INVALID_FEATURES';
  readonly message: string;
  readonly details: Record<string, unknown>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The value as a record (a JSON object), or why it is not one. */
export function decodeValue(value: Buffer | undefined | null): { record: unknown } | { rejection: Rejection } {
  if (!value || value.length === 0)
    return { rejection: { code: 'MALFORMED_BODY', message: 'the record has no value', details: {} } };
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return { rejection: { code: 'MALFORMED_BODY', message: 'the value is not valid UTF-8', details: {} } };
  }
  try {
    return { record: JSON.parse(text) };
  } catch (err) {
    return {
      rejection: { code: 'MALFORMED_BODY', message: `the value is not JSON: ${(err as Error).message}`, details: {} },
    };
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

/** The answer's JSON: `{"customer_id":...,"churn_probability":...,...,"partition":P,"offset":O}`. */
export function answerValue(answers: AnswerRenderer, record: unknown, p: number, from: Source): string {
  const json = answers.json(record, p);
  return `${json.slice(0, -1)},"partition":${from.partition},"offset":${from.offset}}`;
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
