import { checkCasConvergence } from '@skewless/adapter-tests'
import { collectingSink, type FeatureUpdate, type FeatureWrite } from '@skewless/core'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { memoryStore, type OnlineFeatureConfig, type OnlineStore, onlineSink } from '../src/index.js'

it('cas: concurrent sinks with out-of-order updates converge to the greatest (eventTime, version)', async () => {
  await checkCasConvergence(memoryStore(), { numRuns: 100 })
}, 60_000)

const LABEL: OnlineFeatureConfig = { name: 'label', valueType: 'string', strategy: 'upsert' }

it('upsert through one sink: per-key order holds under random store delays (the last arrival wins)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 150, size: 'max' }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 10 }),
      fc.record({
        batch: fc.integer({ min: 1, max: 9 }),
        maxBatch: fc.integer({ min: 1, max: 6 }),
        inFlight: fc.integer({ min: 1, max: 6 }),
        linger: fc.integer({ min: 0, max: 2 }),
      }),
      async (keys, delays, o) => {
        const inner = memoryStore()
        let d = 0
        const store: OnlineStore = {
          ...inner,
          async apply(writes, features) {
            // Random delays before the write lands: without per-key order, a later batch could land first.
            await new Promise((r) => setTimeout(r, delays[d++ % delays.length]))
            return inner.apply(writes, features)
          },
          read: inner.read,
        }
        const down = collectingSink<FeatureWrite>()
        const sink = onlineSink({
          store,
          features: [LABEL],
          downstream: down,
          maxBatchSize: o.maxBatch,
          maxInFlightBatches: o.inFlight,
          lingerMs: o.linger,
        })
        const updates: FeatureUpdate[] = keys.map((k, i) => ({
          entity: `k${k}`,
          feature: 'label',
          value: `v${i}`,
          eventTime: 1000 - i, // event times run backwards: upsert must ignore them
          version: 0,
        }))
        for (let i = 0; i < updates.length; i += o.batch) {
          const r = sink.write(updates.slice(i, i + o.batch))
          if (r) await r
        }
        await sink.close()
        const lastArrival = new Map<string, string>()
        for (const u of updates) lastArrival.set(u.entity, u.value as string)
        const entities = [...lastArrival.keys()]
        const rows = await inner.read(entities, [LABEL])
        for (let i = 0; i < entities.length; i++) {
          const e = rows[i]?.[0]
          expect(e?.kind === 'value' && e.stored.value).toBe(lastArrival.get(entities[i] as string))
        }
        // Downstream, per key, writes appear in arrival order (a subsequence of it: the rest coalesced).
        const pos = new Map(updates.map((u, i) => [u.value as string, i]))
        const seen = new Map<string, number>()
        for (const w of down.items) {
          const p = pos.get(w.value as string) as number
          expect(p).toBeGreaterThan(seen.get(w.entity) ?? -1)
          seen.set(w.entity, p)
        }
        const m = sink.metrics()
        expect(m.writes + m.coalesced).toBe(updates.length)
        expect(down.items.length).toBe(m.writes)
      },
    ),
    { numRuns: 60 },
  )
}, 60_000)
