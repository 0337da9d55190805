import { SluiceError } from '../../core/errors.js';
import type { KafkaCoordinates } from './message-types.js';

export function describeCoordinates(at: KafkaCoordinates): string {
  return `${at.topic}/${at.partition}@${at.offset}`;
}

/**
 * The one error a bad Debezium message produces: it says which message (so an operator can
 * look at it with any Kafka tool, or skip it), which field, and what is wrong with it.
 */
export function messageError(at: KafkaCoordinates, field: string, why: string, cause?: unknown): SluiceError {
  return new SluiceError('SLUICE_DEBEZIUM_MESSAGE', `Debezium message ${describeCoordinates(at)}: ${field}: ${why}`, cause === undefined ? undefined : { cause });
}

/** A problem found below the message level, before its coordinates are known to the finder. */
export class FieldError extends Error {
  constructor(readonly field: string, why: string) {
    super(why);
  }
}
