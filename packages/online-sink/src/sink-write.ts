/**
 * The write front of the sink: check each update, put it in its key's state (coalescing with a
 * pending one), queue the key, then send what is due and hold the caller back when the buffer is full.
 *
 * Hot path: one plain loop, one `Map` lookup per update keyed by a string; no promise or closure per
 * update. Promises exist per call only (dead letters, backpressure).
 */
import { ClosedError, type FeatureUpdate } from '@skewless/core'
import { checkStorableTime, isNewerVersion, isStorableTime } from '@skewless/core/adapter'
import { waitForRoom } from './backpressure.js'
import { pump } from './sink-dispatch.js'
import { deadLetter, type SinkState } from './sink-state.js'
import type { OnlineDeadLetter } from './types.js'
import { checkValue } from './value-check.js'

/** `OnlineSink.write`: buffer `batch` per key; resolves once there is buffer space. */
export function writeUpdates(sink: SinkState, batch: readonly FeatureUpdate[]): void | Promise<void> {
  if (sink.closed) return Promise.reject(new ClosedError('onlineSink', 'online-sink'))
  if (sink.fatal !== undefined) return Promise.reject(sink.fatal)
  const lanes = sink.lanes
  const queue = sink.queue
  const wasEmpty = sink.qHead === queue.length
  const epoch = sink.epochs.current
  let dead: OnlineDeadLetter[] | undefined
  for (let i = 0; i < batch.length; i++) {
    const u = batch[i] as FeatureUpdate
    const lane = lanes.get(u.feature)
    if (lane === undefined) {
      dead ??= []
      dead.push({
        update: u,
        reason: 'unknown-feature',
        message: `feature '${u.feature}' is not in the sink's features; add an OnlineFeatureConfig for it`,
        code: 'unknown-feature',
      })
      continue
    }
    // The times the offline log stores (core's one rule) and the value the feature's type takes are
    // checked here, per write: found by the store, they would cost the whole batch, or be logged
    // nowhere after landing in the store.
    if (typeof u.entity !== 'string' || !isStorableTime(u.eventTime) || !Number.isSafeInteger(u.version)) {
      dead ??= []
      dead.push({
        update: u,
        reason: 'rejected',
        message: `update of '${u.feature}' needs a string entity, a storable eventTime and an integer version, got entity ${typeof u.entity === 'string' ? u.entity : typeof u.entity}, eventTime ${String(u.eventTime)}, version ${String(u.version)}${isStorableTime(u.eventTime) ? '' : ` (${checkStorableTime(u.eventTime, 'eventTime')})`}`,
        code: 'rejected',
      })
      continue
    }
    const badValue = checkValue(lane.config, u)
    if (badValue !== undefined) {
      dead ??= []
      dead.push({
        update: u,
        reason: 'serialization',
        message: `${badValue}; only this write is dead-lettered`,
        code: 'serialization',
      })
      continue
    }
    let table = lane.byEntity
    let tile = Number.NaN
    if (lane.additive) {
      if (!isStorableTime(u.tileStart)) {
        dead ??= []
        dead.push({
          update: u,
          reason: 'rejected',
          code: 'rejected',
          message:
            u.tileStart === undefined
              ? `additive feature '${u.feature}' needs updates with a tileStart; define it with emit: 'tiles'`
              : `additive feature '${u.feature}' got tileStart ${String(u.tileStart)}: ${checkStorableTime(u.tileStart, 'tileStart')}`,
        })
        continue
      }
      tile = u.tileStart as number
      table = lane.tileTable(tile)
    }
    const s = table.get(u.entity)
    if (s === undefined) {
      queue.push(sink.pool.take(lane, table, u.entity, tile, u, epoch))
      sink.pendingCount++
    } else if (s.pending === undefined) {
      s.pending = u
      s.epoch = epoch
      sink.pendingCount++
      if (!s.busy) queue.push(s)
    } else {
      // Coalescing: only the newest update of a key needs writing; the loser is never written or logged.
      const p = s.pending
      if (!lane.ordered || isNewerVersion(u.eventTime, u.version, p.eventTime, p.version)) s.pending = u
      sink.nCoalesced++
    }
  }
  sink.nUpdates += batch.length
  if (wasEmpty && sink.qHead < queue.length) sink.queuedSince = performance.now()
  const r = dead !== undefined ? deadLetter(sink, dead) : undefined
  // A failing dead-letter output stops the sink, as when it fails on a batch's dead letters; the
  // caller still gets the rejection from `r`.
  if (r) r.catch(sink.onOutputFailure)
  pump(sink)
  if (sink.pendingCount + sink.inFlightUpdates >= sink.maxBuffered) {
    const full = waitForRoom(sink)
    return r ? Promise.all([r, full]).then(noop) : full
  }
  return r
}

function noop(): void {}
