/**
 * Key layout. One hash per entity holds its value features; one hash per (entity, additive
 * feature) holds its tiles. The entity is the hash tag, so all keys of an entity share a slot.
 *
 *   <prefix>{<entity>}               field <feature>   -> <eventTime>,<version>,<tag><value>
 *   <prefix>{<entity>}:t:<feature>   field <tileStart> -> <eventTime>,<version>,<tag><partial>
 *                                    field h           -> prune horizon (tiles below it are gone)
 *   <prefix>changelog                stream of applied writes (option `changelog`; changelog-codec.ts)
 *
 * The changelog key has no brace right after the prefix, every entity key has one (and the prefix has
 * none), so no entity, whatever its name, can collide with it.
 */
import { InvalidDefinitionError } from '@skewless/core'

/** Default key prefix. */
export const DEFAULT_PREFIX = 'sk:'

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
      `online-redis: prefix '${prefix}' contains a brace; remove it (the entity is the hash tag, so one entity's keys share a Cluster slot)`,
    )
  }
  return prefix
}

/** Name of the hash holding the value features of `entity`. */
export function valueKeyOf(prefix: string, entity: string): string {
  return `${prefix}{${entity}}`
}

/** Name of the hash holding the tiles of additive `feature` of `entity`. */
export function tileKeyOf(prefix: string, entity: string, feature: string): string {
  return `${prefix}{${entity}}:t:${feature}`
}

/** Name of the changelog stream. */
export function changelogKeyOf(prefix: string): string {
  return `${prefix}changelog`
}
