/**
 * Key layouts. One hash per entity holds its value features; one hash per (entity, additive
 * feature) holds its tiles. Two layouts, chosen by the `buckets` option:
 *
 * Entity tag (`buckets: 0`, the default): the entity is the hash tag, so all keys of an entity share
 * a Cluster slot, and a batch over many entities touches as many slots.
 *
 *   <prefix>{<entity>}               field <feature>   -> <eventTime>,<version>,<tag><value>
 *   <prefix>{<entity>}:t:<feature>   field <tileStart> -> <eventTime>,<version>,<tag><partial>
 *                                    field h           -> prune horizon (tiles below it are gone)
 *   <prefix>changelog[:<name>]       stream of applied writes (option `changelog`; changelog-codec.ts)
 *
 * Bucketed (`buckets: N`, N >= 1): entities are spread over N buckets, and the bucket is the hash
 * tag, so a batch touches at most N slots (one script call each) and each bucket has its own
 * changelog stream in the slot of its keys. bucket = CRC16/XMODEM(UTF-8 bytes of entity) mod N.
 *
 *   <prefix>{b<k>}v:<entity>                          the value hash
 *   <prefix>{b<k>}t<n>:<feature>:<entity>             the tile hash; n = UTF-8 byte length of feature
 *   <prefix>{b<k>}changelog[:<name>]                  bucket k's changelog stream
 *
 * Why no two keys collide, whatever the entity (braces, ':', anything): the prefix has no brace, so
 * the first `{...}` is the tag, fixed per layout; after it a value key starts with 'v:', a tile key
 * with 't' and a byte length that says where the feature ends (feature names may hold ':'), a
 * changelog with 'c'; the entity is always the rest of the key. In the entity-tag layout a changelog
 * key has no brace after the prefix and every entity key has one; a feature name with a brace is
 * refused (`checkFeatureName`), since `<prefix>{e}:t:f}` could otherwise be the value hash of
 * entity `e}:t:f` and the tile hash of entity `e`, feature `f}`.
 */
import { InvalidDefinitionError } from '@skewless/core'
import { numberOption } from '@skewless/core/internal'
import { crc16 } from './slot.js'

/** Default key prefix. */
export const DEFAULT_PREFIX = 'sk:'

/** Most buckets: more than the Cluster's 16384 slots would only put several buckets in one slot. */
export const MAX_BUCKETS = 16384

/**
 * Check a key prefix: a brace in it would make the prefix, not the entity, the hash tag.
 * @throws InvalidDefinitionError, like the store's other options.
 */
export function checkPrefix(prefix: string): string {
  if (typeof prefix !== 'string') {
    throw new InvalidDefinitionError(
      `online-redis: prefix must be a string, got ${typeof prefix} ${JSON.stringify(prefix)}; leave it unset for '${DEFAULT_PREFIX}'`,
    )
  }
  if (prefix.includes('{') || prefix.includes('}')) {
    throw new InvalidDefinitionError(
      `online-redis: prefix '${prefix}' contains a brace; remove it (the entity or bucket is the hash tag, so the keys of one call share a Cluster slot)`,
    )
  }
  return prefix
}

/**
 * Check the name of an additive feature (it is part of its tile hash's key): a brace in it would
 * let two keys collide in the entity-tag layout (see above).
 * @throws InvalidDefinitionError naming the feature.
 */
export function checkFeatureName(name: string): string {
  if (name.includes('{') || name.includes('}')) {
    throw new InvalidDefinitionError(
      `online-redis: feature name '${name}' contains a brace; rename the feature (a brace in a key name would let the tile hash of one entity be the value hash of another)`,
    )
  }
  return name
}

/** Check the `buckets` option: a whole number in [0, MAX_BUCKETS] (core's one option check). */
export function checkBuckets(v: number | undefined): number {
  return numberOption('online-redis', 'buckets', v, 0, {
    min: 0,
    max: MAX_BUCKETS,
    integer: true,
    hint: '0 keys by the entity tag, more buckets group entities (README, "Key layout")',
  })
}

/** How keys are named: one object per store. */
export interface KeyLayout {
  /** 0: the entity is the hash tag; N > 0: the bucket is. */
  readonly buckets: number
  /** The bucket of `entity` (0 when `buckets` is 0). */
  bucketOf(entity: string): number
  /** The value hash of `entity` (in bucket `bucket`, which must be `bucketOf(entity)`). */
  valueKey(entity: string, bucket: number): string
  /** The tile hash of (`entity`, `feature`) (in bucket `bucket`). */
  tileKey(entity: string, feature: string, bucket: number): string
  /** Changelog stream of `bucket` (of the store with the entity-tag layout: the one stream). */
  changelogKey(bucket: number, name: string | undefined): string
  /**
   * Where the entity is in a key of bucket `bucket` (for the script, which logs the entity by cutting
   * it out of the key): its first byte, 1-based, and how many bytes follow it, in UTF-8.
   */
  entitySpan(tileFeature: string | undefined, bucket: number): [start: number, cut: number]
}

/** The key layout of a store with `prefix` and `buckets`. */
export function keyLayout(prefix: string, buckets: number): KeyLayout {
  const prefixBytes = Buffer.byteLength(prefix, 'utf8')
  if (buckets === 0) {
    return {
      buckets,
      bucketOf: () => 0,
      valueKey: (entity) => `${prefix}{${entity}}`,
      tileKey: (entity, feature) => `${prefix}{${entity}}:t:${feature}`,
      changelogKey: (_b, name) => (name === undefined ? `${prefix}changelog` : `${prefix}changelog:${name}`),
      entitySpan: (tileFeature) => [
        prefixBytes + 2,
        tileFeature === undefined ? 1 : Buffer.byteLength(tileFeature, 'utf8') + 4,
      ],
    }
  }
  const heads = Array.from({ length: buckets }, (_, k) => `${prefix}{b${k}}`)
  const tileHeads = new Map<string, string>()
  const tileHead = (feature: string) => {
    let h = tileHeads.get(feature)
    if (h === undefined) {
      h = `t${Buffer.byteLength(feature, 'utf8')}:${feature}:`
      tileHeads.set(feature, h)
    }
    return h
  }
  return {
    buckets,
    bucketOf: (entity) => crc16(entity) % buckets,
    valueKey: (entity, b) => `${heads[b]}v:${entity}`,
    tileKey: (entity, feature, b) => `${heads[b]}${tileHead(feature)}${entity}`,
    changelogKey: (b, name) => (name === undefined ? `${heads[b]}changelog` : `${heads[b]}changelog:${name}`),
    entitySpan: (tileFeature, b) => [
      Buffer.byteLength(heads[b] as string, 'utf8') +
        (tileFeature === undefined ? 2 : Buffer.byteLength(tileHead(tileFeature), 'utf8')) +
        1,
      0,
    ],
  }
}
