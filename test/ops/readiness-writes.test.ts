/**
 * Readiness means a token can be issued (docs/operations.md, "Health"): a running service whose database stops
 * accepting writes answers /health/ready 503, as its token route does, and ready again once writes are accepted.
 * SQLite: another connection holds the write lock (what any writer in another process can do); PostgreSQL: the
 * service's database role loses its write privileges.
 */
import { randomBytes } from 'node:crypto'
import BetterSqlite3 from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSqlStore } from '../../adapters/store/sql/open-store.js'
import { describeWithPostgres, withPostgresSchema, type PostgresSchema } from '../support/postgres.js'
import { rawRequest, startTestService, TOKEN_ROUTE, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'

const ready = async (url: string) => (await rawRequest(url, { method: 'GET', path: '/health/ready' })).status
const example = async (url: string) =>
  (await rawRequest(url, { path: TOKEN_ROUTE, headers: { 'content-type': 'application/json', authorization: EXAMPLE_AUTHORIZATION }, body: EXAMPLE_BODY })).status
/** Past the time a successful write probe is trusted. */
const afterProbeCache = () => new Promise((r) => setTimeout(r, 1_100))

describe('SQLite: readiness follows whether the database accepts a write', () => {
  let svc: TestService
  beforeAll(async () => {
    // The store of the service, opened on the service's own file, with a short lock wait.
    const probe = await startTestService()
    const path = probe.config.db.engine === 'sqlite' ? probe.config.db.path : ''
    await probe.close()
    svc = await startTestService({ db: `sqlite:${path}` }, { store: await openSqlStore({ engine: 'sqlite', path, url: `sqlite:${path}` }, { busyTimeoutMillis: 100 }) })
  })
  afterAll(async () => svc?.stop())

  it('is ready, then 503 while another connection holds the write lock (token requests 503 too), then ready again', async () => {
    expect(await ready(svc.url)).toBe(200)
    expect(await example(svc.url)).toBe(200)
    const path = svc.config.db.engine === 'sqlite' ? svc.config.db.path : ''
    const other = new BetterSqlite3(path)
    try {
      other.exec('begin exclusive')
      await afterProbeCache()
      expect(await example(svc.url)).toBe(503)
      expect(await ready(svc.url)).toBe(503)
      other.exec('rollback')
      expect(await ready(svc.url)).toBe(200)
      expect(await example(svc.url)).toBe(200)
    } finally {
      other.close()
    }
  })
})

await describeWithPostgres('PostgreSQL: readiness follows whether the database accepts a write', () => {
  let pg: PostgresSchema
  let svc: TestService
  const role = `ca_role_${randomBytes(4).toString('hex')}`
  const grant = (verb: 'grant' | 'revoke') =>
    pg.admin(`${verb} insert, update, delete on all tables in schema ${pg.schema} ${verb === 'grant' ? 'to' : 'from'} ${role}`)

  beforeAll(async () => {
    pg = await withPostgresSchema()
    await (await openSqlStore(pg.database)).close()
    await pg.admin(`create role ${role} login`)
    await pg.admin(`grant usage, create on schema ${pg.schema} to ${role}`)
    await pg.admin(`grant select on all tables in schema ${pg.schema} to ${role}`)
    await pg.admin(`grant usage on all sequences in schema ${pg.schema} to ${role}`)
    await grant('grant')
    const url = new URL(pg.url)
    url.username = role
    svc = await startTestService({ db: url.toString() })
  })
  afterAll(async () => {
    await svc?.close()
    await pg?.drop()
    await pg?.admin(`drop owned by ${role}`).catch(() => undefined)
    await pg?.admin(`drop role if exists ${role}`)
  })

  it('is ready, then 503 once the role may no longer write (token requests 503 too), then ready again', async () => {
    expect(await ready(svc.url)).toBe(200)
    expect(await example(svc.url)).toBe(200)
    await grant('revoke')
    await afterProbeCache()
    expect(await example(svc.url)).toBe(503)
    expect(await ready(svc.url)).toBe(503)
    await grant('grant')
    expect(await ready(svc.url)).toBe(200)
    expect(await example(svc.url)).toBe(200)
  })

  it('a role that cannot write is refused at start-up', async () => {
    await grant('revoke')
    try {
      const url = new URL(pg.url)
      url.username = role
      await expect(startTestService({ db: url.toString() })).rejects.toThrow(/does not accept writes \(42501/)
    } finally {
      await grant('grant')
    }
  })
})
