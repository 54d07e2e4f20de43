// Reference F of `npm run bench`: the least work any implementation of the token route must do per request, on the
// same framework as A, written as a bare Koa handler with nothing else: read and parse the JSON body, decode the
// Basic key, HMAC-digest the key and the code (node:crypto, as the spec's storage rule asks), look both up (in a Map:
// cheaper than any store), sign an HS256 JWT (node:crypto), append an audit row to SQLite in a group commit (WAL,
// synchronous=NORMAL, indexed by session id) and wait for its commit, write one pino log line (to /dev/null,
// through the service's default log destination), answer.
// With FLOOR_DATABASE_URL (postgres://, naming a schema of its own), the audit row goes to PostgreSQL instead: F_pg.
// An unknown key (the failure scenario) is audited and answered 401 after its one digest and look-up; like the
// service, it writes no row per refusal: refusals of one (minute, code, client address) are folded into one row per
// commit, added to that row's count (`occurrences`), as the service aggregates them (docs/security.md, "Storage bounds").
// No validation, no errors, no middleware, no metrics. Its req/s over A's bounds what the real service (B) can reach.
// With FLOOR_CONFORMING=1 (F+, `compare.mjs ... floor+`), F also does per request what the method's specification
// asks besides, each the cheapest way it knows: the validation matrix (the core's resolveCredentials over the key that
// readBasicAuth decodes; not the body's size, UTF-8 and duplicate-name checks), a counter of issued tokens or of
// failures by name and code, and what floor-edge.mjs does around every route (request id, no-store, the latency
// histogram, the request line). Not the lock-out's attempt counters.
import { createHmac, createSecretKey, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mkdtempSync, rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import Koa from 'koa'
import { Router } from '@koa/router'
import pino from 'pino'
import { ROOT } from '../support.mjs'

const port = Number(process.env.PORT ?? 0)
const basePath = process.env.BASE_PATH ?? '/crmapi/rest/v2'
const databaseUrl = process.env.FLOOR_DATABASE_URL

/**
 * The audit writer, group-committed: rows that arrive while a commit is under way go together in the next one, and
 * each caller waits for the commit of its row. SQLite (the default): a file of its own, WAL, synchronous=NORMAL,
 * one BEGIN IMMEDIATE transaction per batch. PostgreSQL (FLOOR_DATABASE_URL, a schema the bench created and drops):
 * one connection, one multi-row INSERT in flight (a statement commits on its own, synchronous_commit as the server
 * has it), prepared once per batch size; the service's PostgreSQL store writes its audit rows the same way.
 */
/**
 * The rows of one commit: a refusal's row carries its bucket (its last column), and the refusals of one bucket in a
 * batch become one row counting them, as one INSERT may not update a row twice. Rows without a bucket stay as they are.
 */
const merged = (batch) => {
  const rows = []
  const buckets = new Map()
  for (const [row] of batch) {
    const bucket = row[4]
    if (bucket === null) rows.push([...row, 1])
    else if (buckets.has(bucket)) buckets.get(bucket)[5]++
    else {
      // A folded refusal's payload is written only if its row is new, so it is made only for the first of a bucket.
      const counted = [row[0], row[1], row[2], row[3](), bucket, 1]
      buckets.set(bucket, counted)
      rows.push(counted)
    }
  }
  return rows
}
const COLUMNS = 'type, at, session_id, payload, bucket, occurrences'
const UPSERT = 'on conflict (bucket) where bucket is not null do update set occurrences = audit.occurrences + excluded.occurrences'
const TABLE = 'audit (id integer primary key, type text not null, at bigint not null, session_id text, payload text not null, bucket text, occurrences integer not null)'

const openAudit = async () => {
  if (databaseUrl) {
    const { default: pg } = await import('pg')
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    await client.query(`create table ${TABLE.replace('integer primary key', 'bigserial primary key')}`)
    await client.query('create index audit_session on audit (session_id)')
    await client.query('create unique index audit_bucket on audit (bucket) where bucket is not null')
    const queue = []
    let writing = false
    const write = async () => {
      writing = true
      while (queue.length > 0) {
        const batch = queue.splice(0, 1000)
        const rows = merged(batch)
        const values = rows.map((_, i) => `(${[1, 2, 3, 4, 5, 6].map((c) => `$${6 * i + c}`).join(', ')})`).join(', ')
        await client.query({ name: `audit-${rows.length}`, text: `insert into audit (${COLUMNS}) values ${values} ${UPSERT}`, values: rows.flat() })
        for (const [, resolve] of batch) resolve()
      }
      writing = false
    }
    return {
      append: (row) => new Promise((resolve) => {
        queue.push([row, resolve])
        if (!writing) write().catch((e) => { console.error(e); process.exit(1) })
      }),
      close: () => client.end(),
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-floor-'))
  const db = new Database(join(dir, 'floor.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`create table ${TABLE}; create index audit_session on audit (session_id); create unique index audit_bucket on audit (bucket) where bucket is not null`)
  const insert = db.prepare(`insert into audit (${COLUMNS}) values (?, ?, ?, ?, ?, ?) ${UPSERT}`)
  const begin = db.prepare('begin immediate')
  const commit = db.prepare('commit')
  let queue = []
  const flush = () => {
    const batch = queue
    queue = []
    begin.run()
    for (const row of merged(batch)) insert.run(row)
    commit.run()
    for (const [, resolve] of batch) resolve()
  }
  return {
    append: (row) => new Promise((resolve) => {
      if (queue.push([row, resolve]) === 1) setImmediate(flush)
    }),
    close: async () => {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
const audit = await openAudit()
const append = audit.append

const pepper = createSecretKey(randomBytes(32))
const signing = createSecretKey(randomBytes(32))
const digest = (s) => createHmac('sha256', pepper).update(s).digest('base64url')
const keys = new Map([[digest('EE73C0AE64524371B5DDEFF5F7BB2192'), { organisation: 'ps_dev', username: 'maytemplate' }]])
const codes = new Map([[`ps_dev/${digest('p_kestora1!')}`, { cii: '2695FED3FCFD4084AB39F44B18889123', ari: '261BF2B79198401D89A79C545F16CBEC' }]])
const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'HS256', kid: 'floor' })).toString('base64url')
// The service's own default destination (pino's sonic-boom in its buffer mode), the cheapest way pino writes a line
// asynchronously; until 2026-12-01 19:40 UTC F used pino.destination's string mode, dearer under load.
const { logDestination } = await import(join(ROOT, 'dist/composition/log-destination.js'))
const log = pino({}, logDestination('/dev/null'))

/** The body as a string: plain 'data'/'end' listeners, the cheapest way to read a stream (no async iterator). */
const readBody = (req) =>
  new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')))
    req.once('error', reject)
  })

const app = new Koa()
const router = new Router()
const PATH = `${basePath}/authentication/consumer_application_key/token`

/** F+'s additions (FLOOR_CONFORMING=1), see the top: the validation matrix, then around the route floor-edge.mjs. */
const conforming = process.env.FLOOR_CONFORMING === '1' ? await (async () => {
  const { resolveCredentials, DEFAULT_RELEASE } = await import(join(ROOT, 'dist/core/index.js'))
  const { readBasicAuth } = await import(join(ROOT, 'dist/adapters/http/basic-auth.js'))
  const { Counter, Registry } = await import('prom-client')
  const { floorEdge } = await import('./floor-edge.mjs')
  const registers = [new Registry()]
  const issued = new Counter({ name: 'issued_total', help: 'Tokens issued', labelNames: ['mode'], registers })
  const failures = new Counter({ name: 'failures_total', help: 'Failures', labelNames: ['name', 'code'], registers })
  app.use(floorEdge(PATH, registers, (ctx) => {
    if (ctx.status === 200) issued.inc({ mode: 'AuthenticationCode' })
    else failures.inc({ name: 'INVALIDAPPLICATIONKEY', code: 'COM.CRM.EXCEPTION.AUTHENTICATION.INVALIDAPPLICATIONKEYEXCEPTION' })
  }))
  return { resolveCredentials, DEFAULT_RELEASE, readBasicAuth }
})() : undefined

router.post(PATH, async (ctx) => {
  const body = JSON.parse(await readBody(ctx.req))
  let key
  if (conforming) {
    const credentials = conforming.resolveCredentials(conforming.DEFAULT_RELEASE, { body, key: conforming.readBasicAuth(ctx.get('authorization')) })
    if (credentials._tag === 'Left') throw new Error(`F+ was sent a request the validation matrix refuses: ${credentials.left.name}`)
    key = credentials.right.key
  } else {
    key = Buffer.from(ctx.get('authorization').slice(6), 'base64').toString('utf8').split(':')[0]
  }
  const user = keys.get(digest(key))
  if (user === undefined) {
    // The failure path: audited as well, and answered with the same kind of envelope.
    const at = Math.floor(Date.now() / 1000)
    await append(['failed', at, null, () => JSON.stringify({ code: 'INVALIDAPPLICATIONKEY', keyPrefix: key.slice(0, 6), clientAddress: ctx.ip }), `${at - (at % 60)} INVALIDAPPLICATIONKEY ${ctx.ip}`])
    ctx.status = 401
    ctx.set('WWW-Authenticate', 'Basic realm="consumer-auth"')
    ctx.type = 'application/json'
    ctx.body = JSON.stringify({ data: null, status: { code: 'COM.CRM.EXCEPTION.AUTHENTICATION.INVALIDAPPLICATIONKEYEXCEPTION', description: 'INVALIDAPPLICATIONKEY', message: 'The application key is not valid' } })
    if (!conforming) log.info({ method: ctx.method, path: ctx.path, status: 401 }, 'request')
    return
  }
  const consumer = codes.get(`${user.organisation}/${digest(body.access_token_identifier.authentication_code)}`)
  const now = Math.floor(Date.now() / 1000)
  const jti = randomBytes(16).toString('hex').toUpperCase()
  const claims = { cii: consumer.cii, usr: user.username, org: user.organisation, ari: consumer.ari, oun: body.unit, exp: now + 7200, iat: now, jti }
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  const token = `${input}.${createHmac('sha256', signing).update(input).digest('base64url')}`
  await append(['issued', now, jti, JSON.stringify({ ...claims, clientAddress: ctx.ip }), null])
  ctx.type = 'application/json'
  ctx.body = JSON.stringify({ data: { token }, status: { code: 'OK', description: '', message: '' } })
  if (!conforming) log.info({ method: ctx.method, path: ctx.path, status: 200 }, 'request')
})
app.use(router.routes())

const server = createServer(app.callback())
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`)
})
process.on('SIGTERM', () => server.close(() => audit.close().finally(() => process.exit(0))))
