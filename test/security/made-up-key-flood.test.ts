/**
 * A flood of made-up keys writes rows in proportion to its sources and minutes, not its requests (docs/security.md,
 * "Storage bounds"): 40,000 token requests, each with a different random key, 250 in flight at once from one
 * address, over 40 seconds of the test clock, on SQLite and PostgreSQL. Every one is refused with
 * INVALIDAPPLICATIONKEY; the audit log gains one row per minute they span (at most 2), counting all 40,000.
 */
import { randomBytes } from 'node:crypto'
import { Agent, request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DatabaseUrl } from '../../composition/config.js'
import { describeWithPostgres, withPostgresSchema, type PostgresSchema } from '../support/postgres.js'
import { basic, TOKEN_ROUTE } from '../support/service.js'
import { startSecuredService, type SecuredService } from './support.js'
import { testClock } from '../support/doubles.js'
import { EXAMPLE_CODE, exampleDocument } from '../support/example.js'

const REQUESTS = 40_000
const IN_FLIGHT = 250
const BODY = JSON.stringify({ access_token_identifier: { authentication_code: EXAMPLE_CODE } })

/** Sends `REQUESTS` requests with made-up keys, IN_FLIGHT at once on keep-alive connections; answers the statuses. */
const flood = async (s: SecuredService): Promise<Map<string, number>> => {
  const u = new URL(s.url)
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT })
  const outcomes = new Map<string, number>()
  let sent = 0
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const key = randomBytes(16).toString('hex').toUpperCase()
      const req = request(
        { host: u.hostname, port: u.port, method: 'POST', path: TOKEN_ROUTE, agent, headers: { 'content-type': 'application/json', authorization: basic(key) } },
        (res) => {
          let text = ''
          res.setEncoding('utf8').on('data', (c: string) => (text += c))
          res.on('end', () => {
            const outcome = `${res.statusCode} ${(JSON.parse(text) as { status: { description: string } }).status.description}`
            outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
            resolve()
          })
        },
      )
      req.on('error', reject)
      req.end(BODY)
    })
  const worker = async () => {
    while (sent < REQUESTS) {
      sent++
      // The flood lasts 40 s of the test clock: it may cross one minute boundary.
      if (sent % 1_000 === 0) s.clock.advance(1)
      await one()
    }
  }
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  } finally {
    agent.destroy()
  }
  return outcomes
}

const floodTest = (db: () => DatabaseUrl | undefined) => {
  let s: SecuredService
  beforeAll(async () => {
    const where = db()
    s = await startSecuredService({ clock: testClock(1_800_000_000), ...(where ? { db: where } : {}) })
    await s.import(exampleDocument())
  })
  afterAll(async () => s?.stop())

  it(`${REQUESTS} requests with made-up keys are all refused and write at most 2 audit rows`, async () => {
    const before = (await s.store.listAuditEvents()).length
    const outcomes = await flood(s)
    expect(Object.fromEntries(outcomes)).toEqual({ '401 INVALIDAPPLICATIONKEY': REQUESTS })
    const rows = (await s.store.listAuditEvents()).slice(before)
    console.info(`${db()?.engine ?? 'sqlite'}: ${REQUESTS} requests with made-up keys wrote ${rows.length} audit row(s)`)
    expect(rows.length).toBeGreaterThanOrEqual(1)
    expect(rows.length).toBeLessThanOrEqual(2)
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(REQUESTS)
    expect(rows.every((r) => r.event.type === 'failed' && r.event.code === 'INVALIDAPPLICATIONKEY')).toBe(true)
  }, 180_000)
}

describe('SQLite: a flood of made-up keys', () => floodTest(() => undefined))

await describeWithPostgres('PostgreSQL: a flood of made-up keys', () => {
  let pg: PostgresSchema
  beforeAll(async () => {
    pg = await withPostgresSchema()
  })
  afterAll(async () => pg?.drop())
  floodTest(() => pg.database)
})
