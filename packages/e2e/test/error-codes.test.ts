// Every error class a package exports has a code from core's one list (`SKEWLESS_ERROR_CODES`), its
// own code unless it extends the class whose code it shares, and a message in the one shape
// `<package>: <what>`; a message that points at a README's "Errors" section points at a section
// that lists its code. `code` is narrowed per class at the type level (`switch (err.code)`).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as asof from '@skewless/asof-join'
import * as cli from '@skewless/cli'
import * as core from '@skewless/core'
import {
  AbortedError,
  ClosedError,
  InvalidArgumentError,
  SKEWLESS_ERROR_CODES,
  SkewlessError,
  type SkewlessErrorCode,
} from '@skewless/core'
import * as featureStore from '@skewless/feature-store'
import * as offlineLog from '@skewless/offline-log'
import * as parquet from '@skewless/offline-parquet'
import * as redis from '@skewless/online-redis'
import * as sink from '@skewless/online-sink'
import * as nats from '@skewless/source-nats'
import * as worker from '@skewless/worker'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { PACKAGES_DIR, workspaceEntries } from '../../../workspace-entries.ts'

type ErrorClass = abstract new (...args: never[]) => SkewlessError

/** One instance of each exported error class, and the package whose name prefixes its message (`undefined`: the caller writes the whole message). */
const MADE: [ErrorClass, () => SkewlessError, string | undefined][] = [
  [core.InvalidDefinitionError, () => new core.InvalidDefinitionError('core: x'), undefined],
  [core.InvalidEventError, () => new core.InvalidEventError('missing-key', 'core: x'), undefined],
  [InvalidArgumentError, () => new InvalidArgumentError('core: x'), undefined],
  [ClosedError, () => new ClosedError('memoryLog'), undefined],
  [AbortedError, () => new AbortedError(), undefined],
  [core.CheckpointMismatchError, () => new core.CheckpointMismatchError('core: x'), undefined],
  [sink.StoreUnavailableError, () => new sink.StoreUnavailableError('online-sink: x'), undefined],
  [sink.StoreTimeoutError, () => new sink.StoreTimeoutError('memory', 5), 'online-sink'],
  [sink.StoreWriteError, () => new sink.StoreWriteError('script-error', 'online-sink: x'), undefined],
  [sink.DownstreamError, () => new sink.DownstreamError('the log'), 'online-sink'],
  [sink.SinkAbortedError, () => new sink.SinkAbortedError('online-sink: x', 1), undefined],
  [
    redis.RedisPermissionError,
    () => new redis.RedisPermissionError('online-redis: x', '+hset', 'NOPERM'),
    undefined,
  ],
  [redis.RedisTlsError, () => new redis.RedisTlsError('online-redis: x', 'CERT_HAS_EXPIRED'), undefined],
  [
    redis.RedisUnreachableError,
    () => new redis.RedisUnreachableError('online-redis: x', 'redis://h', 5),
    undefined,
  ],
  [redis.ChangelogFormatError, () => new redis.ChangelogFormatError('online-redis: x'), undefined],
  [
    offlineLog.InvalidRecordError,
    () =>
      new offlineLog.InvalidRecordError(
        {
          record: { entity: 'u1', feature: 'f', value: 1, eventTime: 0, version: 0 } as never,
          reason: 'unknown-feature',
          message: 'no f',
          code: 'unknown-feature',
        },
        2,
      ),
    'offline-log',
  ],
  [offlineLog.MarksRefusedError, () => new offlineLog.MarksRefusedError(), 'offline-log'],
  [
    parquet.CorruptFileError,
    () => new parquet.CorruptFileError('/l/a.parquet', 'truncated'),
    'offline-parquet',
  ],
  [
    parquet.CorruptJournalError,
    () => new parquet.CorruptJournalError('/l/j.json', 'bad json'),
    'offline-parquet',
  ],
  [parquet.CommitFailedError, () => new parquet.CommitFailedError('disk full'), 'offline-parquet'],
  [parquet.LogLockedError, () => new parquet.LogLockedError('/l', 'pid 7'), 'offline-parquet'],
  [parquet.UnstableListingError, () => new parquet.UnstableListingError('/l', 'swapped'), 'offline-parquet'],
  [parquet.ReadOnlyLogError, () => new parquet.ReadOnlyLogError('append'), 'offline-parquet'],
  [parquet.CorruptManifestError, () => new parquet.CorruptManifestError('/l/m', 'gap'), 'offline-parquet'],
  [parquet.MissingFileError, () => new parquet.MissingFileError('/l', 'a.parquet', 3), 'offline-parquet'],
  [parquet.ForeignFileError, () => new parquet.ForeignFileError('/l/b.parquet'), 'offline-parquet'],
  [
    parquet.RollForwardError,
    () => new parquet.RollForwardError('v3', 'a.parquet', '_tmp-1.tmp'),
    'offline-parquet',
  ],
  [parquet.LogUnwritableError, () => new parquet.LogUnwritableError('/l', 'EROFS'), 'offline-parquet'],
  [
    parquet.DefinitionChangedError,
    () => new parquet.DefinitionChangedError('f', 'a', 'b'),
    'offline-parquet',
  ],
  [asof.AsOfJoinInputError, () => new asof.AsOfJoinInputError('column-type', 'c', 'x'), 'asof-join'],
  [asof.MissingColumnError, () => new asof.MissingColumnError('c', 'labels'), 'asof-join'],
  [asof.ColumnTypeError, () => new asof.ColumnTypeError('c', 'x'), 'asof-join'],
  [asof.InvalidTimeError, () => new asof.InvalidTimeError('t', 0, Number.NaN), 'asof-join'],
  [asof.Int64RangeError, () => new asof.Int64RangeError('f', 0, 2n ** 60n), 'asof-join'],
  [asof.EntityTypeMismatchError, () => new asof.EntityTypeMismatchError('e', 'x'), 'asof-join'],
  [asof.UnsupportedRecordError, () => new asof.UnsupportedRecordError('c', 'x'), 'asof-join'],
  [asof.InvalidOptionError, () => new asof.InvalidOptionError('inclusive', 'x'), 'asof-join'],
  [asof.MissingFeatureError, () => new asof.MissingFeatureError('f', ['g']), 'asof-join'],
  [asof.LogClosedError, () => new asof.LogClosedError(), 'asof-join'],
  [
    nats.NatsUnavailableError,
    () => new nats.NatsUnavailableError('x', { server: 'nats://h' }),
    'source-nats',
  ],
  [nats.NatsConsumerError, () => new nats.NatsConsumerError('x', { server: 'nats://h' }), 'source-nats'],
  [nats.NatsTlsError, () => new nats.NatsTlsError('x', { server: 'nats://h' }), 'source-nats'],
  [
    featureStore.UnsupportedOperationError,
    () => new featureStore.UnsupportedOperationError('x'),
    'feature-store',
  ],
  [
    worker.PartitionStopError,
    () =>
      new worker.PartitionStopError(1, {
        partition: 1,
        checkpoint: undefined,
        eventsIn: 0,
        error: new Error('x'),
      }),
    'worker',
  ],
  [cli.CliError, () => new cli.CliError('input-file', 'x', 1), 'cli'],
  [cli.NotALogError, () => new cli.NotALogError('/l', 'missing'), 'cli'],
  [cli.UnsupportedFormatError, () => new cli.UnsupportedFormatError('/l/a', '9', '1'), 'cli'],
  [cli.InputFileError, () => new cli.InputFileError('x'), 'cli'],
  [cli.SkewFoundError, () => new cli.SkewFoundError(1, 2), 'cli'],
]

/** Every SkewlessError subclass exported by any entry of any package. */
async function exportedErrorClasses(): Promise<Set<ErrorClass>> {
  const found = new Set<ErrorClass>()
  for (const entry of workspaceEntries()) {
    const mod = (await import(entry.specifier)) as Record<string, unknown>
    for (const value of Object.values(mod)) {
      if (typeof value === 'function' && value.prototype instanceof SkewlessError)
        found.add(value as ErrorClass)
    }
  }
  return found
}

describe('error codes', () => {
  it('every exported error class is made here, so the checks below cover it', async () => {
    const made = new Set(MADE.map(([cls]) => cls))
    const missing = [...(await exportedErrorClasses())].filter((c) => !made.has(c)).map((c) => c.name)
    expect(missing).toEqual([])
  })

  it('every code is in SKEWLESS_ERROR_CODES, listed once', () => {
    expect(new Set(SKEWLESS_ERROR_CODES).size).toBe(SKEWLESS_ERROR_CODES.length)
    for (const [cls, make] of MADE) {
      const err = make()
      expect(err, cls.name).toBeInstanceOf(cls)
      expect(SKEWLESS_ERROR_CODES, cls.name).toContain(err.code)
      expect(err.name).toBe(cls.name)
    }
  })

  it('two classes share a code only when one extends the other (a switch on code tells them apart)', () => {
    const byCode = new Map<string, ErrorClass[]>()
    for (const [cls, make] of MADE) byCode.set(make().code, [...(byCode.get(make().code) ?? []), cls])
    const clashes: string[] = []
    for (const [code, classes] of byCode) {
      for (const a of classes) {
        for (const b of classes) {
          if (a !== b && !(a.prototype instanceof b) && !(b.prototype instanceof a)) {
            clashes.push(`${code}: ${a.name} / ${b.name}`)
          }
        }
      }
    }
    expect(clashes).toEqual([])
    // Every code in the list is thrown by some exported class (no stale code).
    expect(SKEWLESS_ERROR_CODES.filter((c) => !byCode.has(c))).toEqual([])
  })

  it('messages have the shape "<package>: <what>", and a README pointer names a section that lists the code', () => {
    for (const [cls, make, pkg] of MADE) {
      if (pkg === undefined) continue
      const err = make()
      expect(err.message, cls.name).toMatch(new RegExp(`^${pkg}: \\S`))
      const pointer = /\(what to do: "Errors" in the @skewless\/([a-z-]+) README\)$/.exec(err.message)
      if (pointer === null) continue
      const readme = readFileSync(join(PACKAGES_DIR, pointer[1] as string, 'README.md'), 'utf8')
      const section = readme.slice(readme.indexOf('\n## Errors\n'))
      expect(readme.includes('\n## Errors\n'), `${pointer[1]} README has an Errors section`).toBe(true)
      expect(section, `${cls.name}: code ${err.code} in the Errors table`).toContain(`\`${err.code}\``)
    }
  })

  it('each class narrows code, so a switch on it is checked by the compiler', () => {
    expectTypeOf(new parquet.LogLockedError('/l', 'x').code).toEqualTypeOf<'log-locked'>()
    expectTypeOf(new sink.StoreTimeoutError('m', 1).code).toEqualTypeOf<'store-timeout'>()
    expectTypeOf(new redis.RedisUnreachableError('m', 'a', 1).code).toEqualTypeOf<'store-unreachable'>()
    expectTypeOf<sink.StoreUnavailableError['code']>().toEqualTypeOf<
      'store-unavailable' | 'store-timeout' | 'store-unreachable' | 'tls-refused'
    >()
    expectTypeOf<SkewlessError['code']>().toEqualTypeOf<SkewlessErrorCode>()
    // @ts-expect-error: a code outside the list does not compile
    new SkewlessError('no-such-code', 'x')
    const what = (err: sink.StoreUnavailableError): string => {
      switch (err.code) {
        case 'store-unavailable':
        case 'store-timeout':
          return 'retried'
        case 'store-unreachable':
        case 'tls-refused':
          return 'fatal'
        default: {
          const exhaustive: never = err.code
          return exhaustive
        }
      }
    }
    expect(what(new sink.StoreTimeoutError('m', 1))).toBe('retried')
    expect(what(new redis.RedisTlsError('m', 'CERT_HAS_EXPIRED'))).toBe('fatal')
  })
})
