/**
 * Reading and trimming the changelog of a bucketed store: one stream per bucket
 * (`<prefix>{b<k>}changelog[:<name>]`, in the slot of the bucket's keys). A position is an array of
 * stream ids, one per bucket ('0-0': nothing read from it yet). A page merges the buckets' entries
 * by id (the servers' clocks), ends on an entry boundary, and moves each bucket's id past a prefix
 * of its stream, so no entry is skipped or read twice. Order is exact per key (a key lives in one
 * bucket); across buckets it is the clock's, with ties in one ms in bucket order.
 */
import { type FeatureWrite, InvalidArgumentError, type SourcePosition } from '@skewless/core'
import type { ChangelogPage, ReadChangelogOptions } from '@skewless/online-sink/adapter'
import { checkLimit, checkPosition, decodeEntry, nextId } from './changelog-codec.js'
import { toStoreError } from './errors.js'
import type { RedisLike } from './types.js'

/** Entries fetched per bucket per round trip at most. */
const MAX_ENTRIES_PER_FETCH = 100

type XRange = NonNullable<RedisLike['xrange']>
type XTrim = NonNullable<RedisLike['xtrim']>

/** `readChangelog` and `trimChangelog` over the streams `keys` (bucket k's at index k). */
export function createBucketedChangelog(
  keys: readonly string[],
  xrange: XRange,
  xtrim: XTrim,
  lastId: (key: string) => Promise<string>,
) {
  const n = keys.length
  let writesPerEntry = 1

  /** The position as an array of n stream ids. */
  function checkPositions(p: SourcePosition, what: string): string[] {
    if (!Array.isArray(p) || p.length !== n) {
      throw new InvalidArgumentError(
        `online-redis: ${what} must be a changelog position as readChangelog returns it (an array of ${n} stream ids, one per bucket), got ${JSON.stringify(p)}; a position of a store with another number of buckets cannot be used`,
      )
    }
    return p.map((id) => checkPosition(id as SourcePosition, what))
  }

  async function readChangelog(
    after: SourcePosition | undefined,
    options: ReadChangelogOptions,
  ): Promise<ChangelogPage> {
    const limit = checkLimit(options?.limit)
    const pos =
      after === undefined ? new Array<string>(n).fill('0-0') : checkPositions(after, 'readChangelog after')
    const upTo = options.upTo === undefined ? undefined : checkPositions(options.upTo, 'readChangelog upTo')
    const writes: FeatureWrite[] = []
    let moved = false
    for (;;) {
      const want = Math.max(
        1,
        Math.min(Math.ceil((limit - writes.length) / writesPerEntry), MAX_ENTRIES_PER_FETCH),
      )
      let fetched: [string, string[]][][]
      try {
        // '(' makes the start exclusive (Redis >= 6.2); no entry has the id 0-0.
        // With `upTo`, each bucket is read up to its own id of it (inclusive).
        fetched = await Promise.all(
          keys.map((k, b) =>
            xrange(k, `(${pos[b]}`, upTo === undefined ? '+' : (upTo[b] as string), 'COUNT', want),
          ),
        )
      } catch (err) {
        throw toStoreError(err, 'changelog read')
      }
      // A bucket that returned `want` entries may have more, older than another bucket's later
      // entries: the merge stops at the smallest last id of such buckets (each keeps a prefix).
      let stop: [number, number] | undefined
      const merged: [number, number, number, string, string[]][] = []
      for (let b = 0; b < n; b++) {
        const es = fetched[b] as [string, string[]][]
        for (const [id, fields] of es) {
          const [ms, seq] = splitId(id)
          merged.push([ms, seq, b, id, fields])
        }
        if (es.length === want) {
          const last = splitId((es[es.length - 1] as [string, string[]])[0])
          if (stop === undefined || cmp(last[0], last[1], stop[0], stop[1]) < 0) stop = last
        }
      }
      merged.sort((x, y) => cmp(x[0], x[1], y[0], y[1]) || x[2] - y[2])
      for (let e = 0; e < merged.length; e++) {
        const [ms, seq, b, id, fields] = merged[e] as [number, number, number, string, string[]]
        if (stop !== undefined && cmp(ms, seq, stop[0], stop[1]) > 0) break
        const before = writes.length
        decodeEntry(keys[b] as string, id, fields, writes)
        writesPerEntry = Math.max(1, writes.length - before)
        pos[b] = id
        moved = true
        if (writes.length >= limit) {
          const end = stop === undefined && e === merged.length - 1
          return { writes, position: [...pos], end }
        }
      }
      if (stop === undefined)
        return { writes, position: moved || after !== undefined ? [...pos] : undefined, end: true }
    }
  }

  async function trimChangelog(upTo: SourcePosition): Promise<void> {
    const ids = checkPositions(upTo, 'trimChangelog upTo')
    try {
      // Exact MINID (no '~'): every entry with an id <= the bucket's id goes, none after it.
      await Promise.all(
        keys.map((k, b) => (ids[b] === '0-0' ? 0 : xtrim(k, 'MINID', nextId(ids[b] as string)))),
      )
    } catch (err) {
      throw toStoreError(err, 'changelog trim')
    }
  }

  async function changelogHead(): Promise<SourcePosition | undefined> {
    const ids = await Promise.all(keys.map((k) => lastId(k)))
    return ids.every((id) => id === '0-0') ? undefined : ids
  }

  return { readChangelog, trimChangelog, changelogHead }
}

/** A stream id's ms and sequence, as numbers (exact below 2^53: ms clocks and per-ms counters are). */
function splitId(id: string): [number, number] {
  const d = id.indexOf('-')
  return [Number(id.slice(0, d)), Number(id.slice(d + 1))]
}

function cmp(ams: number, aseq: number, bms: number, bseq: number): number {
  return ams - bms || aseq - bseq
}
