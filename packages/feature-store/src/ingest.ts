/**
 * The live path: the features' pipeline into the online store, and from there into the log. With a
 * changelog store the log is written from the changelog (every applied write exactly once, with
 * the store's own time) and a resumable source commits its checkpoints in the log; otherwise the
 * sink forwards each acknowledged write to the log.
 */
import {
  type CheckpointData,
  type CheckpointStore,
  createPipeline,
  type FeatureGroup,
  type ResumableSource,
  type Source,
} from '@skewless/core'
import { isResumableSource } from '@skewless/core/adapter'
import type { OfflineLog } from '@skewless/offline-log'
import {
  type ChangelogCommitter,
  changelogCommitter,
  type OnlineFeatureConfig,
  type OnlineStore,
  onlineSink,
} from '@skewless/online-sink'
import { unclosable } from './log-handle.js'
import type { FeatureStoreOptions, IngestOptions, IngestResult } from './types.js'

/** What an ingest needs from the facade. */
export interface IngestContext<E> {
  features: FeatureGroup<E, string>
  online: OnlineStore
  offline: OfflineLog
  configs: readonly OnlineFeatureConfig[]
  options: FeatureStoreOptions<E, string>
}

/** Run `source` to its end (or until `signal` aborts); sinks and committer are flushed and closed, the stores are not. */
export async function runIngest<E>(
  ctx: IngestContext<E>,
  source: Source<E> | ResumableSource<E>,
  signal: AbortSignal,
  call: IngestOptions,
  carried: CheckpointData | undefined,
): Promise<IngestResult> {
  const { online, offline, options } = ctx
  const viaChangelog = online.capabilities.changelog === true
  const committer: ChangelogCommitter | undefined = viaChangelog
    ? changelogCommitter({ store: online, log: offline })
    : undefined
  const sink = onlineSink({
    store: online,
    features: ctx.configs,
    ...(committer === undefined ? { downstream: unclosable(offline) } : {}),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    // Retries, dead letters and an unreachable store are reported where the pipeline's warnings go.
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  })
  // Checkpoints need a source that can replay from a position; a plain iterable still gets the
  // changelog's exactly-once path into the log, without resuming.
  const checkpoints: CheckpointStore | undefined =
    committer !== undefined && isResumableSource(source) ? committer : undefined
  // Resuming: the caller's checkpoint, else the log's committed one (with checkpoints), else the
  // state the previous call of this facade ended with, so consecutive ingests continue one stream.
  const checkpoint = call.checkpoint ?? (checkpoints === undefined ? carried : undefined)
  try {
    const pipeline = createPipeline<E>({
      source,
      features: ctx.features,
      sink,
      signal,
      ...(options.watermark === undefined ? {} : { watermark: options.watermark }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.lateEvents === undefined ? {} : { lateEvents: options.lateEvents }),
      ...(options.deadLetters === undefined ? {} : { deadLetters: options.deadLetters }),
      ...(checkpoints === undefined ? {} : { checkpoints }),
      ...(options.checkpointInterval === undefined ? {} : { checkpointInterval: options.checkpointInterval }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.historyWarningAge === undefined ? {} : { historyWarningAge: options.historyWarningAge }),
      ...(checkpoint === undefined ? {} : { checkpoint }),
    })
    const result = await pipeline.run()
    // The pipeline flushed its sinks; closing ours (not the pipeline) leaves the user's late and
    // dead-letter outputs open for the next call.
    await sink.close()
    await committer?.close()
    return {
      ...result,
      sink: sink.metrics(),
      logPath: committer === undefined ? 'downstream' : 'changelog',
      checkpoint: pipeline.snapshot(),
    }
  } catch (err) {
    // Best effort on the way out: the run's error is the one worth reporting.
    await sink.close().catch(() => undefined)
    await committer?.close().catch(() => undefined)
    throw err
  }
}
