import { memoryLog } from '@skewless/offline-log'
import { memoryStore } from '@skewless/online-sink'
import { describe, expect, it } from 'vitest'
import {
  offlineLogMarksTests,
  offlineLogReadTests,
  offlineLogSuite,
  offlineLogWriteTests,
  onlineStoreCapabilityTests,
  onlineStoreChangelogTests,
  onlineStoreCoreTests,
  onlineStoreSinkTests,
  onlineStoreSuite,
  onlineStoreTilePruneTests,
  type TestFn,
} from '../src/index.js'

/** The test names a registration makes (nothing runs: the recording `it` only keeps names). */
function names(register: (it: TestFn) => void): string[] {
  const out: string[] = []
  register((name) => {
    out.push(name)
  })
  return out
}

describe('the suites are exported group by group', () => {
  it('the online groups register, between them, every test of onlineStoreSuite but its capability declaration', () => {
    const store = () => memoryStore()
    const all = names((it) => onlineStoreSuite(it, store))
    const groups = [
      onlineStoreCoreTests,
      onlineStoreCapabilityTests,
      onlineStoreSinkTests,
      onlineStoreChangelogTests,
      onlineStoreTilePruneTests,
    ].map((g) => names((it) => g(it, store)))
    for (const g of groups) expect(g.length).toBeGreaterThan(0)
    expect(['online store: declares its name and capabilities as data', ...groups.flat()]).toEqual(all)
  })

  it('the offline groups register, between them, every test of offlineLogSuite', () => {
    const log = memoryLog
    const all = names((it) => offlineLogSuite(it, log, { name: 'mem' }))
    const groups = [offlineLogReadTests, offlineLogWriteTests, offlineLogMarksTests].map((g) =>
      names((it) => g(it, log, { name: 'mem' })),
    )
    for (const g of groups) expect(g.length).toBeGreaterThan(0)
    expect(groups.flat()).toEqual(all)
    expect(all.every((n) => n.startsWith('mem: '))).toBe(true)
  })
})
