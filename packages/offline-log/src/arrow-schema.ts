import {
  Bool,
  Dictionary,
  Field,
  Float64,
  Int32,
  Int64,
  Schema,
  TimestampMillisecond,
  Utf8,
} from 'apache-arrow'

/** Dictionary<Int32, Utf8> types of the string columns that repeat (one instance each, so ids are stable). */
export const ENTITY_TYPE = new Dictionary(new Utf8(), new Int32())
export const FEATURE_TYPE = new Dictionary(new Utf8(), new Int32())
export const OUTCOME_TYPE = new Dictionary(new Utf8(), new Int32())

/** Column names of the log layout, in order. */
export const LOG_COLUMNS = [
  'entity',
  'feature',
  'value_double',
  'value_int64',
  'value_string',
  'value_bool',
  'event_time',
  'available_time',
  'version',
  'outcome',
  'tile_start',
] as const

/** A column name of the log layout. */
export type LogColumn = (typeof LOG_COLUMNS)[number]

/**
 * The Arrow fields of a log record batch (see the table in `types.ts`). Batches built by
 * `writesToRecordBatch` use exactly these; batches read back from Parquet may carry plain Utf8
 * instead of Dictionary<Utf8> for the string columns, and readers accept both.
 */
export const LOG_SCHEMA_FIELDS: readonly Field[] = Object.freeze([
  new Field('entity', ENTITY_TYPE, false),
  new Field('feature', FEATURE_TYPE, false),
  new Field('value_double', new Float64(), true),
  new Field('value_int64', new Int64(), true),
  new Field('value_string', new Utf8(), true),
  new Field('value_bool', new Bool(), true),
  new Field('event_time', new TimestampMillisecond(), false),
  new Field('available_time', new TimestampMillisecond(), false),
  new Field('version', new Int64(), false),
  new Field('outcome', OUTCOME_TYPE, false),
  new Field('tile_start', new TimestampMillisecond(), true),
])

/** The Arrow schema of a log record batch. */
export function logSchema(): Schema {
  return new Schema(LOG_SCHEMA_FIELDS as Field[])
}
