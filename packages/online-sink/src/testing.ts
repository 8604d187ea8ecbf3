/**
 * `@skewless/online-sink/testing`: fault hooks of the memory store, for tests of sinks and adapters
 * (the conformance suite's `corruptKey`). Not for production code.
 *
 * @packageDocumentation
 */
import { InvalidArgumentError } from '@skewless/core'
import { faultHooks, type MemoryStore } from './memory-store.js'

function hooks(store: MemoryStore) {
  const h = faultHooks.get(store)
  if (h === undefined)
    throw new InvalidArgumentError('online-sink testing: the store was not made by memoryStore()')
  return h
}

/**
 * Make (entity, feature) of a memory store permanently unwritable: its writes fail with
 * `wrong-type` (a permanent per-write failure) until {@link repairKey}.
 */
export function corruptKey(store: MemoryStore, entity: string, feature: string): void {
  hooks(store).corrupt(entity, feature)
}

/** Undo {@link corruptKey}. */
export function repairKey(store: MemoryStore, entity: string, feature: string): void {
  hooks(store).repair(entity, feature)
}
