/**
 * @module audit-buckets
 * Which audit events are aggregated instead of kept one row each, and under which bucket (docs/security.md,
 * "Storage bounds"). A refusal that authenticates nobody (a key that is unknown or unusable, a subject already
 * locked out) carries nothing about a person: a flood of them would otherwise write one row per request. Such
 * refusals are counted in one row per (minute, mode, code, organisation, key prefix of a known key, client address),
 * so a flood writes rows in proportion to its sources and minutes, not its requests. Every issued session, every
 * lock-out and every failed check of a credential keeps its own row. Every store (memory, SQLite, PostgreSQL) uses
 * this one rule.
 */
import type { AuditEvent, ErrorName } from '../../core/index.js'

/** The width of a bucket, in seconds. */
const AGGREGATION_SECONDS = 60

const AGGREGATED_CODES: ReadonlySet<ErrorName> = new Set<ErrorName>(['INVALIDAPPLICATIONKEY', 'TOOMANYATTEMPTS'])

/**
 * The bucket of an event that is aggregated, or undefined for an event kept in a row of its own. The key prefix is
 * part of the bucket only for a key of a known organisation: an unknown key's prefix is whatever a client made up
 * (one bucket per made-up key would be one row per request again). The row keeps its first event, prefix included.
 */
export const aggregationBucket = (event: AuditEvent): string | undefined => {
  if (event.type !== 'failed' || !AGGREGATED_CODES.has(event.code)) return undefined
  const minute = event.at - (event.at % AGGREGATION_SECONDS)
  const organisation = event.organisation ?? null
  // JSON of an array: unambiguous whatever the parts contain.
  return JSON.stringify([minute, event.mode, event.code, organisation, organisation === null ? null : (event.keyPrefix ?? null), event.clientAddress])
}
