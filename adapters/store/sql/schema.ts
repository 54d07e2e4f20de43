/**
 * @module schema
 * The SQL schema of the storage rules (docs/behaviour.md) as Kysely sees it: one interface per table, shared by SQLite and PostgreSQL. Times are
 * whole seconds since the epoch (INTEGER in SQLite, BIGINT in PostgreSQL, read back as JS numbers). Secrets are
 * never stored: keys and authentication codes only as keyed digests, pass codes only as scrypt hashes.
 */
import type { Generated } from 'kysely'

export interface OrganisationsTable {
  id: string
  name: string
  consumer_user: string
}

export interface UnitsTable {
  organisation: string
  id: string
  name: string
}

/** @public: named in the declared type of queries.ts's exported statements. */
export interface UsersTable {
  organisation: string
  username: string
  default_unit: string | null
}

/** @public: as UsersTable. */
export interface UserUnitsTable {
  organisation: string
  username: string
  unit: string
  /** Keeps a user's units in the order they were given. */
  position: number
}

export interface WebApiKeysTable {
  /** Keyed digest (HMAC-SHA256 with the pepper) of the key. */
  digest: string
  prefix: string
  classification: string
  status: string
  organisation: string
  username: string
  created_at: number
  last_used_at: number | null
}

export interface ConsumersTable {
  organisation: string
  accounts_receivable_id: string
  contact_information_id: string
}

export interface AccessTokensTable {
  id: string
  organisation: string
  accounts_receivable_id: string
  /** Keyed digest of the authentication code. */
  authentication_code_digest: string | null
  identifier: string | null
  /** Self-describing scrypt hash of the pass code. */
  pass_code_hash: string | null
  state: string
  valid_from: number | null
  valid_to: number | null
}

export interface IdentityProvidersTable {
  issuer: string
  audience: string
  /** The JWKS document as JSON text. */
  jwks: string
}

export interface IdentityLinksTable {
  issuer: string
  subject: string
  organisation: string
  accounts_receivable_id: string
}

export interface AttemptCountersTable {
  subject: string
  failures: number
  window_start: number
  /** How many claims the last claim statement on this row granted (attempt-counters.ts): read only by its RETURNING. */
  granted: Generated<number>
}

export interface AuditEventsTable {
  id: Generated<number>
  type: string
  at: number
  /** The session id of an 'issued' or 'released' event (indexed, for the revocation check); null for other events. */
  session_id: string | null
  /** The whole event as JSON text (an aggregated row: its first event); events never carry a secret. */
  payload: string
  /** How many events the row stands for: 1, or more for an aggregated failure (docs/security.md, "Storage bounds"). */
  occurrences: Generated<number>
  /** The time of the row's latest event (null only on rows written before the migration 0002). */
  last_at: number | null
  /** The aggregation bucket of a failure that authenticated nobody (unique); null for the events kept one per row. */
  bucket: string | null
  /** When the session of an 'issued' event expires: the pruning job keeps the row until then. */
  expires_at: number | null
}

/** One row (id 1), rewritten by the readiness probe. */
interface WriteProbeTable {
  id: number
  at: number
}

interface SchemaMigrationsTable {
  name: string
  applied_at: number
}

export interface Database {
  organisations: OrganisationsTable
  units: UnitsTable
  users: UsersTable
  user_units: UserUnitsTable
  web_api_keys: WebApiKeysTable
  consumers: ConsumersTable
  access_tokens: AccessTokensTable
  identity_providers: IdentityProvidersTable
  identity_links: IdentityLinksTable
  attempt_counters: AttemptCountersTable
  audit_events: AuditEventsTable
  write_probe: WriteProbeTable
  schema_migrations: SchemaMigrationsTable
}

export type Engine = 'sqlite' | 'postgres'
