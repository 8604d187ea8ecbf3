/**
 * `natsSource` and `natsPartitionSources`: JetStream streams as core `ResumableSource`s. The
 * position of a batch is the stream sequence of its last message; `open(position)` reads from the
 * next sequence on, so a pipeline resumed from its checkpoint gets no gap and no duplicate.
 */
import type { PositionedBatch, SourcePosition } from '@skewless/core'
import { InvalidDefinitionError } from '@skewless/core'
import * as internal from '@skewless/core/internal'
import { ConnectionProvider } from './connection.js'
import { defaultNatsLogger } from './logger.js'
import { Reader } from './reader.js'
import { connectionTimes, type ReaderSettings, resolveSettings } from './settings.js'
import type { NatsPartitionOptions, NatsSource, NatsSourceBaseOptions, NatsSourceOptions } from './types.js'

/** One source over a stream, or over the part of it that `filterSubject` selects. */
export function natsSource<E = unknown>(options: NatsSourceOptions<E>): NatsSource<E> {
  const filter = options.filterSubject
  const name = options.name ?? (filter === undefined ? options.stream : `${options.stream}/${filter}`)
  return makeSource(options, providerFor(options), name, filter)
}

/**
 * One source per partition of a partitioned stream, named `'<stream>/partition=<p>'`, filtering
 * `partitionSubject` with `{partition}` replaced. The sources share one connection when they open
 * it themselves (`servers`).
 */
export function natsPartitionSources<E = unknown>(options: NatsPartitionOptions<E>): NatsSource<E>[] {
  const { partitions, partitionSubject } = options
  if (!Array.isArray(partitions) || partitions.length === 0) {
    throw new InvalidDefinitionError('source-nats: partitions must list at least one partition number')
  }
  const seen = new Set<number>()
  for (const p of partitions) {
    if (!Number.isSafeInteger(p) || p < 0 || seen.has(p)) {
      throw new InvalidDefinitionError(
        `source-nats: partitions must be distinct whole numbers >= 0, got ${JSON.stringify(partitions)}`,
      )
    }
    seen.add(p)
  }
  if (typeof partitionSubject !== 'string' || !partitionSubject.includes('{partition}')) {
    throw new InvalidDefinitionError(
      `source-nats: partitionSubject must contain '{partition}', e.g. 'clicks.{partition}.>', got ${JSON.stringify(partitionSubject)}`,
    )
  }
  const provider = providerFor(options)
  // One default logger for all: its rate limit then spans the partitions, not each one.
  const shared = { ...options, logger: options.logger ?? defaultNatsLogger() }
  return partitions.map((p) =>
    makeSource(
      shared,
      provider,
      `${options.stream}/partition=${p}`,
      partitionSubject.replaceAll('{partition}', String(p)),
    ),
  )
}

function providerFor<E>(options: NatsSourceBaseOptions<E>): ConnectionProvider {
  return new ConnectionProvider({
    connection: options.connection,
    servers: options.servers,
    tls: options.tls,
    clientName: options.clientName ?? 'skewless-source-nats',
    ...connectionTimes(options),
  })
}

function makeSource<E>(
  options: NatsSourceBaseOptions<E>,
  provider: ConnectionProvider,
  name: string,
  filterSubject: string | undefined,
): NatsSource<E> {
  const settings = resolveSettings(options, name, filterSubject, provider.server)
  return {
    name,
    filterSubject,
    metrics: () => ({ ...settings.metrics }),
    open: (from, { signal }) => read(settings, provider, from, signal),
  }
}

/** The first sequence to read after `from` (a stream sequence, or nothing for the configured start). */
export function startSequenceAfter(
  name: string,
  from: SourcePosition | undefined,
  startSequence: number,
): number {
  if (from === undefined || from === null) return startSequence
  if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0) {
    throw new InvalidDefinitionError(
      `source-nats: source '${name}': position ${JSON.stringify(from)} is not a JetStream stream sequence (a whole number >= 0); was the checkpoint taken with another source?`,
    )
  }
  return from + 1
}

async function* read<E>(
  settings: ReaderSettings<E>,
  provider: ConnectionProvider,
  from: SourcePosition | undefined,
  signal: AbortSignal,
): AsyncGenerator<PositionedBatch<E>> {
  const startSeq = startSequenceAfter(settings.name, from, settings.startSequence)
  if (signal.aborted) return
  let nc: Awaited<ReturnType<ConnectionProvider['acquire']>>
  try {
    nc = await provider.acquire(signal)
  } catch (err) {
    if (signal.aborted) return
    throw err
  }
  const s = provider.external ? { ...settings, server: internal.redactUrl(nc.getServer()) } : settings
  const reader = new Reader(s, nc, startSeq, signal)
  try {
    try {
      await reader.start(from !== undefined && from !== null)
    } catch (err) {
      if (signal.aborted) return
      throw err
    }
    while (true) {
      const batch = await reader.next()
      if (batch === undefined) return
      yield { events: batch.events, position: batch.position }
    }
  } finally {
    await reader.close()
    await provider.release()
  }
}
