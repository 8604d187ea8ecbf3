/**
 * The contract of @skewless/freshness: how old the values the online store served were, over time,
 * computed from the offline log — for the streaming pipeline that wrote the log, and for a Feast-style
 * batch job that would have materialized the same events every `batchEvery`.
 *
 * Definitions, per feature and entity, at a sample instant `t`:
 * - **streaming age** = `t − eventTime` of the value the online store held at `t`: the greatest
 *   eventTime among the log's applied records with `availableTime <= t` (`stateAt(t, { by: 'available' })`);
 * - **batch age** = `t − eventTime` of what a materialization at `m` = the last multiple of
 *   `batchEvery` (since the epoch, like an hourly cron at :00 UTC) at or before `t` loaded: the greatest
 *   eventTime among records with `eventTime <= m` (`stateAt(m, { by: 'event' })`). It grows until the
 *   next materialization: the sawtooth.
 * An entity that held no value at `t` is not sampled. Records rejected by compare-and-set (`stale`)
 * never count. Additive (tile) features count each tile record like a whole value, so an entity's age
 * is that of its newest tile.
 */
import type { AbortOptions, Duration } from '@skewless/core'

/** Options of `freshnessReport`. */
export interface FreshnessOptions extends AbortOptions {
  /** Features to report. @default every feature the log declares */
  features?: readonly string[]
  /** Only these entities. @default all */
  entities?: readonly string[]
  /** Period of the simulated batch materialization (ms or a duration such as `'1h'`). @default '1h' */
  batchEvery?: Duration
  /** Sample instants per feature, evenly spaced from `from` to `to` (at least 2). @default 240 */
  samples?: number
  /** First sample instant (ms). @default the feature's earliest availableTime */
  from?: number
  /** Last sample instant (ms). @default the feature's latest availableTime */
  to?: number
  /**
   * Working memory for the per-entity sample arrays (16 bytes per entity and sample). Past it, the
   * entities are split by hash into partitions and the log is scanned once per partition.
   * @default 268_435_456 (256 MiB)
   */
  memoryBytes?: number
  /**
   * Values the online reader served (e.g. its `servedLog`, or the `ServedRecord`s of
   * @skewless/online-sink): their ages at read time (`readTime − eventTime`) become the `served`
   * series, what inference actually saw. Records without an eventTime (nothing served) are skipped.
   * @default none
   */
  served?: Iterable<ServedAge>
  /** Called after each scanned batch and each finished scan. */
  onProgress?: (progress: FreshnessProgress) => void
  /** Stops between two batches; rejects with `AbortedError`. */
  signal?: AbortSignal
}

/** A served value, as far as its age goes (structurally a `ServedRecord` of @skewless/online-sink). */
export interface ServedAge {
  /** Feature name. */
  feature: string
  /** Event time of the served value; `null` or absent when nothing was served. */
  eventTime?: number | null
  /** When it was served (ms since epoch). */
  readTime: number
}

/** Where a running `freshnessReport` is. */
export interface FreshnessProgress {
  /** Scans finished so far (each feature takes one scan for its bounds, then one per partition). */
  scansDone: number
  /** Scans known so far (grows as each feature's partition count becomes known). */
  scansTotal: number
  /** Feature being read. */
  feature: string
  /** Rows read so far, over all scans. */
  rows: number
}

/** Summary statistics of a set of ages, in ms. */
export interface AgeStats {
  /** Number of samples. */
  count: number
  /** Mean age (exact). */
  mean: number
  /** Median age (within 1/32 of the true value: a log-linear histogram). */
  p50: number
  /** 90th percentile (within 1/32). */
  p90: number
  /** 99th percentile (within 1/32). */
  p99: number
  /** Largest age (exact). */
  max: number
}

/** One series over the sample instants: for each instant, statistics over the entities sampled there. */
export interface AgeSeries {
  /** Per sample instant: entities that held a value. */
  entities: Uint32Array
  /** Per sample instant: median age over those entities, in ms (NaN when none held a value). */
  p50: Float64Array
  /** Per sample instant: 90th percentile age in ms (NaN when none). */
  p90: Float64Array
  /** Per sample instant: mean age in ms (NaN when none). */
  mean: Float64Array
  /** Over every (entity, sample instant) pair with a value. */
  overall: AgeStats
}

/** Freshness of one feature. */
export interface FeatureFreshness {
  /** Feature name. */
  feature: string
  /** Applied records read. */
  records: number
  /** Distinct entities. */
  entities: number
  /** Sample instants (ms since epoch), ascending. */
  times: Float64Array
  /** The streaming pipeline: what the online store held (by availableTime). */
  streaming: AgeSeries
  /** A batch materialization every `batchEveryMs`, from the same records (by eventTime). */
  batch: AgeSeries
  /**
   * Ages of the served values of this feature (from `options.served`), each counted at the sample
   * instant nearest its read time (reads outside the sampled range count only in `overall`).
   * Absent without `options.served`.
   */
  served?: AgeSeries
  /** `availableTime − eventTime` of each applied record: the delay of each write itself. */
  writeDelay: AgeStats
  /** Partitions the entities were split into (1 when they fit `memoryBytes`). */
  partitions: number
}

/** What `freshnessReport` returns. */
export interface FreshnessReport {
  /** Period of the simulated batch materialization, in ms. */
  batchEveryMs: number
  /** One entry per requested feature, in request order (features without records are left out). */
  features: FeatureFreshness[]
}

/** Options of `renderFreshnessChart`. */
export interface ChartOptions {
  /** Width of the SVG in px. @default 900 */
  width?: number
  /** Height of one feature's panel in px. @default 180 */
  panelHeight?: number
  /** Title above the panels. @default 'Feature age: streaming vs batch every <K>' */
  title?: string
}

/** The colours of the two series, so tests and docs can find them in a rendered image. */
export interface SeriesColours {
  /** Stroke of the streaming series. */
  streaming: string
  /** Stroke of the batch series. */
  batch: string
  /** Fill of the served values' series (drawn when the report has one). */
  served: string
}
