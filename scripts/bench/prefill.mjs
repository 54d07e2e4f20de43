// The data of a deployment that has run for a while, put into a bench database after `consumer-auth import` seeded
// the documented example: that many more access tokens (each with a consumer of its own), Web API keys and `issued`
// audit rows. An empty database keeps every index in the page cache, which a real one never does.
//
// The rows are generated inside the database engine (a recursive CTE on SQLite, generate_series on PostgreSQL): one
// statement per table and batch, in transactions, no row crosses into JavaScript. The key and the code the bench
// presents were imported with their real digests; the made-up rows carry well-formed values of the same shape
// (64 lower-case hex digits for a keyed digest, 32 upper-case hex for ids, session ids in time order as the service
// makes them, the same JSON payload as an `issued` event), which nobody presents, so their digests need no pepper.
import Database from 'better-sqlite3'
import pg from 'pg'

/** A realistic deployment (issue 17); `--scale` multiplies each. */
export const FULL_SIZE = { accessTokens: 1_000_000, keys: 100_000, auditRows: 10_000_000 }

export const sizesAt = (scale) => Object.fromEntries(Object.entries(FULL_SIZE).map(([k, n]) => [k, Math.round(n * scale)]))

/** Rows per statement: large enough that a statement's overhead vanishes, small enough to keep memory flat. */
const BATCH = 250_000

/** [first index, count] of each batch of `total` rows. */
const chunks = (total) => {
  const out = []
  for (let from = 0; from < total; from += BATCH) out.push([from, Math.min(BATCH, total - from)])
  return out
}

const ORG = 'ps_dev'
const USER = 'maytemplate'

/** Fills the SQLite file at `file` (the schema of `consumer-auth import`); answers the seconds it took. */
export const prefillSqlite = (file, sizes, nowSeconds = Math.floor(Date.now() / 1000)) => {
  const started = Date.now()
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = OFF')
  const series = (n) => `with recursive s(i) as (select 0 union all select i + 1 from s where i < ${n - 1})`
  const run = db.transaction((sql) => db.exec(sql))
  for (const [from, n] of chunks(sizes.accessTokens)) {
    run(`${series(n)} insert into consumers (organisation, accounts_receivable_id, contact_information_id)
      select '${ORG}', printf('PF%030X', ${from} + i), upper(hex(randomblob(16))) from s`)
    run(`${series(n)} insert into access_tokens (id, organisation, accounts_receivable_id, authentication_code_digest, state)
      select upper(hex(randomblob(16))), '${ORG}', printf('PF%030X', ${from} + i), lower(hex(randomblob(32))), 'EFFECTIVE' from s`)
  }
  for (const [from, n] of chunks(sizes.keys)) {
    run(`${series(n)} insert into web_api_keys (digest, prefix, classification, status, organisation, username, created_at)
      select lower(hex(randomblob(32))), printf('%06X', ${from} + i), 'CONSUMER_APPLICATION_KEY', 'ACTIVE', '${ORG}', '${USER}', ${nowSeconds} from s`)
  }
  // Session ids in time order, one millisecond apart, ending now (the service's ids: 12 hex digits of time, 20 random).
  const firstMillis = Date.now() - sizes.auditRows
  for (const [from, n] of chunks(sizes.auditRows)) {
    run(`${series(n)}, r(sid) as materialized (select printf('%012X', ${firstMillis} + ${from} + i) || upper(hex(randomblob(10))) from s)
      insert into audit_events (type, at, session_id, payload, occurrences, last_at, expires_at)
      select 'issued', ${nowSeconds}, sid, ${issuedPayload('json_object', 'sid', nowSeconds)}, 1, ${nowSeconds}, ${nowSeconds + 7200} from r`)
  }
  db.exec('analyze')
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  return (Date.now() - started) / 1000
}

/** Fills the PostgreSQL schema the service's `url` names (search_path in its options); answers the seconds it took. */
export const prefillPostgres = async (url, sizes, nowSeconds = Math.floor(Date.now() / 1000)) => {
  const started = Date.now()
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    const run = async (sql) => {
      await c.query('begin')
      await c.query('set local synchronous_commit = off')
      await c.query(sql)
      await c.query('commit')
    }
    const hex = (bytes) => `upper(substr(md5(random()::text) || md5(random()::text), 1, ${bytes * 2}))`
    for (const [from, n] of chunks(sizes.accessTokens)) {
      await run(`insert into consumers (organisation, accounts_receivable_id, contact_information_id)
        select '${ORG}', 'PF' || lpad(to_hex(i), 30, '0'), ${hex(16)} from generate_series(${from}, ${from + n - 1}) i`)
      await run(`insert into access_tokens (id, organisation, accounts_receivable_id, authentication_code_digest, state)
        select ${hex(16)}, '${ORG}', 'PF' || lpad(to_hex(i), 30, '0'), lower(${hex(32)}), 'EFFECTIVE' from generate_series(${from}, ${from + n - 1}) i`)
    }
    for (const [from, n] of chunks(sizes.keys)) {
      await run(`insert into web_api_keys (digest, prefix, classification, status, organisation, username, created_at)
        select lower(${hex(32)}), upper(lpad(to_hex(i), 6, '0')), 'CONSUMER_APPLICATION_KEY', 'ACTIVE', '${ORG}', '${USER}', ${nowSeconds}
        from generate_series(${from}, ${from + n - 1}) i`)
    }
    const firstMillis = Date.now() - sizes.auditRows
    for (const [from, n] of chunks(sizes.auditRows)) {
      await run(`insert into audit_events (type, at, session_id, payload, occurrences, last_at, expires_at)
        select 'issued', ${nowSeconds}, sid, ${issuedPayload('json_build_object', 'sid', nowSeconds)}::text, 1, ${nowSeconds}, ${nowSeconds + 7200}
        from (select upper(lpad(to_hex(${firstMillis}::bigint + i), 12, '0')) || ${hex(10)} as sid from generate_series(${from}, ${from + n - 1}) i) r`)
    }
    await c.query('analyze')
  } finally {
    await c.end()
  }
  return (Date.now() - started) / 1000
}

/** The payload of an `issued` event as the service writes it, built by the engine's JSON function. */
const issuedPayload = (fn, sid, at) =>
  `${fn}('type', 'issued', 'at', ${at}, 'mode', 'AuthenticationCode', 'sessionId', ${sid}, 'organisation', '${ORG}',
    'contactInformationId', '2695FED3FCFD4084AB39F44B18889123', 'accountsReceivableId', '261BF2B79198401D89A79C545F16CBEC',
    'keyPrefix', 'EE73C0', 'keyDigest', '${'0'.repeat(64)}', 'accessTokenId', '${'0'.repeat(32)}', 'expiresAt', ${at + 7200},
    'clientAddress', '127.0.0.1')`
