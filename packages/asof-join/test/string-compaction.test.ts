/**
 * String values are interned while the log is read; the join drops the strings no label slot holds
 * any more, so a string feature with a new value in every record does not grow memory with the log.
 */
import { tableFromArrays } from 'apache-arrow'
import { afterEach, describe, expect, it } from 'vitest'
import { asOfJoinTable } from '../src/index.js'
import { stringCompaction } from '../src/log-reader.js'
import { logTable, oracle, type Rec } from './helpers/fake-log.js'

const minimum = stringCompaction.minimum
afterEach(() => {
  stringCompaction.minimum = minimum
})

describe('string table compaction', () => {
  it('a unique string per record: the answer is unchanged when the table is compacted many times', () => {
    const recs: Rec[] = []
    for (let i = 0; i < 3000; i++) {
      recs.push({
        entity: `e${i % 37}`,
        feature: i % 3 === 0 ? 'n' : 's',
        value: i % 3 === 0 ? i : i % 11 === 0 ? null : `v${i}\uFEFF`,
        eventTime: (i * 7919) % 10_000,
        availableTime: ((i * 7919) % 10_000) + (i % 5),
        version: 0,
        outcome: 'applied',
      })
    }
    const labels: { entity: string; time: number }[] = []
    for (let j = 0; j < 400; j++) labels.push({ entity: `e${j % 41}`, time: (j * 613) % 11_000 })
    const input = tableFromArrays({
      entity: labels.map((l) => l.entity) as never,
      time: Float64Array.from(labels.map((l) => l.time)),
    })
    const log = logTable(recs, { s: 'string', n: 'double' }, { batchSize: 13 })
    const want = oracle(labels, recs, ['s', 'n'], { by: 'available', inclusive: true, maxAge: {} })
    for (const threshold of [minimum, 40]) {
      stringCompaction.minimum = threshold
      for (const workers of [0, 1] as const) {
        for (const partitions of [1, 3]) {
          const out = asOfJoinTable(input, log, { features: ['s', 'n'], workers, partitions })
          expect([...(out.getChild('s') as Iterable<unknown>)]).toEqual(
            want.map((w) => w[0]?.rec?.value ?? null),
          )
          expect([...(out.getChild('n') as Iterable<unknown>)]).toEqual(
            want.map((w) => w[1]?.rec?.value ?? null),
          )
        }
      }
    }
  })
})
