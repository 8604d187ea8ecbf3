/**
 * Reading and trimming the changelog stream `<prefix>changelog[:<name>]` (entity-tag layout,
 * standalone Redis). Positions are stream ids; a page ends on an entry boundary, so one script
 * call's writes are never split. A bucketed store has one stream per bucket: changelog-buckets.ts.
 */
import { type FeatureWrite, InvalidDefinitionError, type SourcePosition } from '@skewless/core'
import type { ChangelogPage, ReadChangelogOptions } from '@skewless/online-sink/adapter'
import { createBucketedChangelog } from './changelog-buckets.js'
import { checkLimit, checkPosition, decodeEntry, nextId } from './changelog-codec.js'
import { toStoreError } from './errors.js'
import type { RedisLike } from './types.js'

/** Entries fetched per round trip at most (each holds at least one write). */
const MAX_ENTRIES_PER_FETCH = 100

/** `readChangelog` and `trimChangelog` of a store whose changelog is `keys` (one per bucket, or the one). */
export function createChangelog(client: RedisLike, keys: readonly string[], bucketed: boolean) {
  const xrange = client.xrange?.bind(client)
  const xtrim = client.xtrim?.bind(client)
  if (xrange === undefined || xtrim === undefined) {
    throw new InvalidDefinitionError(
      'online-redis: changelog: true needs a client with xrange and xtrim (an ioredis Redis has them)',
    )
  }
  const xrevrange = client.xrevrange?.bind(client)
  /** The newest entry id of `k`, `'0-0'` when it is empty (no entry has that id). */
  async function lastId(k: string): Promise<string> {
    if (xrevrange === undefined) {
      throw new InvalidDefinitionError(
        'online-redis: changelogHead needs a client with xrevrange (an ioredis Redis has it)',
      )
    }
    try {
      const es = await xrevrange(k, '+', '-', 'COUNT', 1)
      return es.length === 0 ? '0-0' : (es[0] as [string, string[]])[0]
    } catch (err) {
      throw toStoreError(err, 'changelog head')
    }
  }
  if (bucketed) return createBucketedChangelog(keys, xrange, xtrim, lastId)
  const key = keys[0] as string

  let writesPerEntry = 1

  async function readChangelog(
    after: SourcePosition | undefined,
    options: ReadChangelogOptions,
  ): Promise<ChangelogPage> {
    const limit = checkLimit(options?.limit)
    let position = after === undefined ? undefined : checkPosition(after, 'readChangelog after')
    const end = options.upTo === undefined ? '+' : checkPosition(options.upTo, 'readChangelog upTo')
    const writes: FeatureWrite[] = []
    for (;;) {
      // Entries enough for the writes still wanted, at the writes per entry seen last (a call's
      // batch: up to 1000 by default), so a page does not fetch and drop far more than it returns.
      const want = Math.max(
        1,
        Math.min(Math.ceil((limit - writes.length) / writesPerEntry), MAX_ENTRIES_PER_FETCH),
      )
      let entries: [string, string[]][]
      try {
        // '(' makes the start exclusive (Redis >= 6.2).
        entries = await (xrange as NonNullable<RedisLike['xrange']>)(
          key,
          position === undefined ? '-' : `(${position}`,
          end,
          'COUNT',
          want,
        )
      } catch (err) {
        throw toStoreError(err, 'changelog read')
      }
      for (let e = 0; e < entries.length; e++) {
        const [id, fields] = entries[e] as [string, string[]]
        const before = writes.length
        decodeEntry(key, id, fields, writes)
        writesPerEntry = Math.max(1, writes.length - before)
        position = id
        if (writes.length >= limit)
          return { writes, position, end: e === entries.length - 1 && entries.length < want }
      }
      if (entries.length < want) return { writes, position, end: true }
    }
  }

  async function trimChangelog(upTo: SourcePosition): Promise<void> {
    const id = checkPosition(upTo, 'trimChangelog upTo')
    try {
      // Exact MINID (no '~'): every entry with an id <= upTo goes, none after it.
      await (xtrim as NonNullable<RedisLike['xtrim']>)(key, 'MINID', nextId(id))
    } catch (err) {
      throw toStoreError(err, 'changelog trim')
    }
  }

  async function changelogHead(): Promise<SourcePosition | undefined> {
    const id = await lastId(key)
    return id === '0-0' ? undefined : id
  }

  return { readChangelog, trimChangelog, changelogHead }
}
