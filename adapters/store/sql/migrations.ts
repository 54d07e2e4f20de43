/**
 * @module migrations
 * The versioned schema migrations (one list, written with Kysely's schema builder, for both engines) and their
 * runner. The runner applies the pending migrations in one transaction, recorded in `schema_migrations`:
 * on PostgreSQL under a transaction-level advisory lock (`pg_advisory_xact_lock`), on SQLite under `BEGIN IMMEDIATE`
 * (the database's write lock), so several instances starting at once apply each migration exactly once.
 */
import { sql, type Kysely } from 'kysely'
import type { Database, Engine } from './schema.js'

export interface Migration {
  /** Sortable and never renamed once released: the name is what `schema_migrations` records. */
  readonly name: string
  up(db: Kysely<any>, engine: Engine): Promise<void>
}

/** The advisory-lock key of the migration runner ("cami" in ASCII). */
const MIGRATION_LOCK_KEY = 0x63616d69

const time = 'bigint' as const

export const migrations: ReadonlyArray<Migration> = [
  {
    name: '0001_initial',
    async up(db, engine) {
      await db.schema
        .createTable('organisations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('consumer_user', 'text', (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('units')
        .addColumn('organisation', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('units_pk', ['organisation', 'id'])
        .execute()

      await db.schema
        .createTable('users')
        .addColumn('organisation', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('default_unit', 'text')
        .addPrimaryKeyConstraint('users_pk', ['organisation', 'username'])
        .execute()

      await db.schema
        .createTable('user_units')
        .addColumn('organisation', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('unit', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('user_units_pk', ['organisation', 'username', 'unit'])
        .addForeignKeyConstraint('user_units_user_fk', ['organisation', 'username'], 'users', ['organisation', 'username'], (f) =>
          f.onDelete('cascade'))
        .execute()

      await db.schema
        .createTable('web_api_keys')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('classification', 'text', (c) =>
          c.notNull().check(sql`classification in ('CONSUMER_APPLICATION_KEY', 'SYSTEMIC_KEY')`))
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('ACTIVE', 'REVOKED')`))
        .addColumn('organisation', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('last_used_at', time)
        .addForeignKeyConstraint('web_api_keys_user_fk', ['organisation', 'username'], 'users', ['organisation', 'username'])
        .execute()
      await db.schema.createIndex('web_api_keys_organisation_ix').on('web_api_keys').column('organisation').execute()

      await db.schema
        .createTable('consumers')
        .addColumn('organisation', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('accounts_receivable_id', 'text', (c) => c.notNull())
        .addColumn('contact_information_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('consumers_pk', ['organisation', 'accounts_receivable_id'])
        .execute()

      await db.schema
        .createTable('access_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation', 'text', (c) => c.notNull())
        .addColumn('accounts_receivable_id', 'text', (c) => c.notNull())
        .addColumn('authentication_code_digest', 'text')
        .addColumn('identifier', 'text')
        .addColumn('pass_code_hash', 'text')
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('EFFECTIVE', 'SUSPENDED', 'CANCELLED')`))
        .addColumn('valid_from', time)
        .addColumn('valid_to', time)
        .addForeignKeyConstraint('access_tokens_consumer_fk', ['organisation', 'accounts_receivable_id'], 'consumers', [
          'organisation',
          'accounts_receivable_id',
        ])
        .addUniqueConstraint('access_tokens_identifier_uq', ['organisation', 'identifier'])
        .execute()
      await db.schema
        .createIndex('access_tokens_code_uq')
        .on('access_tokens')
        .columns(['organisation', 'authentication_code_digest'])
        .unique()
        .where(sql.ref('authentication_code_digest'), 'is not', null)
        .execute()
      // The keyless lookup (docs/behaviour.md, the method: authentication) searches a code in every organisation.
      await db.schema.createIndex('access_tokens_code_ix').on('access_tokens').column('authentication_code_digest').execute()

      await db.schema
        .createTable('identity_providers')
        .addColumn('issuer', 'text', (c) => c.primaryKey())
        .addColumn('audience', 'text', (c) => c.notNull())
        .addColumn('jwks', 'text', (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('identity_links')
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('organisation', 'text', (c) => c.notNull())
        .addColumn('accounts_receivable_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('identity_links_pk', ['issuer', 'subject', 'organisation'])
        .addForeignKeyConstraint('identity_links_consumer_fk', ['organisation', 'accounts_receivable_id'], 'consumers', [
          'organisation',
          'accounts_receivable_id',
        ])
        .execute()

      await db.schema
        .createTable('attempt_counters')
        .addColumn('subject', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('window_start', time, (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('audit_events')
        .addColumn('id', engine === 'postgres' ? 'bigserial' : 'integer', (c) =>
          engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('at', time, (c) => c.notNull())
        .addColumn('session_id', 'text')
        .addColumn('payload', 'text', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('audit_events_session_ix').on('audit_events').column('session_id').execute()
    },
  },
  {
    // Storage bounded by design (docs/security.md, "Storage bounds"): aggregated failures, retention, a write probe.
    name: '0002_storage_bounds',
    async up(db, engine) {
      await db.schema.alterTable('audit_events').addColumn('occurrences', 'integer', (c) => c.notNull().defaultTo(1)).execute()
      await db.schema.alterTable('audit_events').addColumn('last_at', time).execute()
      await db.schema.alterTable('audit_events').addColumn('bucket', 'text').execute()
      await db.schema.alterTable('audit_events').addColumn('expires_at', time).execute()
      const expiresAt =
        engine === 'postgres' ? sql`cast(cast(payload as json) ->> 'expiresAt' as bigint)` : sql`cast(json_extract(payload, '$.expiresAt') as integer)`
      await db.updateTable('audit_events').set({ last_at: sql`at`, expires_at: sql`case when type = 'issued' then ${expiresAt} end` }).execute()
      // One row per aggregation bucket (the rows of other events have none: a partial index leaves them out).
      await db.schema
        .createIndex('audit_events_bucket_uq')
        .on('audit_events')
        .column('bucket')
        .unique()
        .where(sql.ref('bucket'), 'is not', null)
        .execute()
      // The pruning job deletes by age, oldest first, in small batches.
      await db.schema.createIndex('audit_events_at_ix').on('audit_events').column('at').execute()
      await db.schema.createIndex('attempt_counters_window_ix').on('attempt_counters').column('window_start').execute()
      // Readiness writes here: a store that cannot commit this row cannot issue a token either.
      await db.schema
        .createTable('write_probe')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('at', time, (c) => c.notNull())
        .execute()
    },
  },
  {
    // The claims of one subject waiting together are one statement (attempt-counters.ts), which answers how many it
    // granted: PostgreSQL 15 cannot return the row as it was before the update.
    name: '0003_combined_attempt_claims',
    async up(db) {
      await db.schema.alterTable('attempt_counters').addColumn('granted', 'integer', (c) => c.notNull().defaultTo(0)).execute()
    },
  },
]

/** The name of the newest migration this code knows: a database without it is not ready for this code. */
export const latestMigration = (list: ReadonlyArray<Migration> = migrations): string | undefined => list.at(-1)?.name

/**
 * Applies the pending migrations of `list` in order, in one transaction, holding the migration lock; answers the
 * names it applied (empty when the database was up to date, e.g. because another instance migrated it first).
 */
export const runMigrations = async (
  db: Kysely<Database>,
  engine: Engine,
  list: ReadonlyArray<Migration> = migrations,
  now: () => number = () => Math.floor(Date.now() / 1000),
): Promise<{ applied: ReadonlyArray<string> }> =>
  db.connection().execute(async (conn) => {
    await sql.raw(engine === 'sqlite' ? 'begin immediate' : 'begin').execute(conn)
    try {
      if (engine === 'postgres') {
        // Held until commit or rollback; it also serialises the creation of schema_migrations itself. Waiting for
        // another migrator is bounded by the statement timeout; migrations are short.
        await sql`select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(conn)
      }
      await conn.schema
        .createTable('schema_migrations')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('applied_at', time, (c) => c.notNull())
        .execute()
      const done = new Set((await conn.selectFrom('schema_migrations').select('name').execute()).map((r) => r.name))
      const applied: string[] = []
      for (const m of list) {
        if (done.has(m.name)) continue
        await m.up(conn, engine)
        await conn.insertInto('schema_migrations').values({ name: m.name, applied_at: now() }).execute()
        applied.push(m.name)
      }
      await sql`commit`.execute(conn)
      return { applied }
    } catch (e) {
      await sql`rollback`.execute(conn).catch(() => undefined)
      throw e
    }
  })
