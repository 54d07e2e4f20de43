/**
 * createConsumerAuth mounted in a host's Koa app, under the host's own prefix and after its own middleware, on the
 * memory store, SQLite and PostgreSQL: the token route's shared table (test/support/token-cases.ts) answered exactly
 * as the standalone service answers it, the host's other requests left to the host, the host's proxy setting deciding
 * the client address, and the options decoded eagerly by the service's own settings table.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Middleware } from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecrets } from '../../adapters/crypto/generate-secrets.js'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import { demoDocument } from '../../adapters/provisioning/demo.js'
import { createConsumerAuth, type ConsumerAuthOptions } from '../../composition/consumer-auth.js'
import { describeWithPostgres, withPostgresSchema, type PostgresSchema } from '../support/postgres.js'
import { postToken, rawRequest, startTestService, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'
import { checkCase, sendCase, tokenCases, tokenVariants, type Target } from '../support/token-cases.js'
import { comparable, HOST_PREFIX, startHost, type Host } from './support.js'

const TOKEN = '/authentication/consumer_application_key/token'

/** The shared table against a host and the standalone service, case by case, in the same order. */
const sameAnswersAsStandalone = (storeName: string, options: () => Promise<Pick<ConsumerAuthOptions, 'db' | 'secrets'>>, cleanup: () => Promise<void> = async () => undefined) => {
  describe(`embedded on ${storeName}, under the host's prefix and after its middleware`, () => {
    let host: Host
    let standalone: TestService
    beforeAll(async () => {
      host = await startHost({ ...(await options()), demo: true })
      standalone = await startTestService()
    }, 30_000)
    afterAll(async () => {
      await host?.stop()
      await standalone?.stop()
      await cleanup()
    })

    for (const c of tokenCases) {
      it(c.name, async () => {
        const embedded = await checkCase(host, c)
        const reference = await sendCase({ url: standalone.url, basePath: standalone.config.basePath }, c)
        expect(comparable(embedded, host.basePath)).toEqual(comparable(reference, standalone.config.basePath))
        expect(embedded.headers['x-host']).toBe('accounts')
      })
    }

    it("leaves the host's own routes, and every path that is not the issuer's, to the host", async () => {
      const ping = await rawRequest(host.url, { method: 'GET', path: `${HOST_PREFIX}/ping` })
      expect(ping.json).toEqual({ host: 'pong' })
      for (const path of [`${HOST_PREFIX}/crmapi/rest/v2/nothing`, '/crmapi/rest/v2' + TOKEN, `${HOST_PREFIX}/health/ready`, '/.well-known/jwks.json']) {
        const r = await rawRequest(host.url, { method: 'POST', path, headers: { 'content-type': 'application/json' }, body: '{}' })
        expect(r.status, path).toBe(404)
        expect(r.json, path).toEqual({ host: 'not found', path })
      }
      expect(host.seen).toContain(`GET ${HOST_PREFIX}/ping`)
      expect(host.seen).toContain(`POST ${host.basePath}${TOKEN}`)
    })
  })
}

sameAnswersAsStandalone('the memory store', async () => ({ db: 'memory:' }))

const sqliteDir = mkdtempSync(join(tmpdir(), 'consumer-auth-embed-'))
sameAnswersAsStandalone('SQLite', async () => ({ db: `sqlite:${join(sqliteDir, 'consumer-auth.db')}` }), async () => rmSync(sqliteDir, { recursive: true, force: true }))

let pg: PostgresSchema | undefined
await describeWithPostgres('PostgreSQL', () => {
  sameAnswersAsStandalone('PostgreSQL', async () => {
    pg = await withPostgresSchema()
    return { db: pg.url, secrets: await generateSecrets() }
  }, async () => pg?.drop())
})

describe('the service settings as options', () => {
  /** A variant's serve flags as createConsumerAuth options. */
  const asOptions = (flags: Readonly<Record<string, string>>): Partial<ConsumerAuthOptions> => ({
    ...(flags['release'] ? { release: flags['release'] } : {}),
    ...(flags['http-status'] ? { httpStatus: flags['http-status'] as 'envelope' } : {}),
    ...(flags['lockout-key'] ? { lockout: { keyThreshold: Number(flags['lockout-key']) } } : {}),
  })
  for (const variant of tokenVariants) {
    it(variant.name, async () => {
      const host = await startHost({ db: 'memory:', demo: true, ...asOptions(variant.flags) })
      try {
        for (const c of variant.cases) await checkCase(host, c)
      } finally {
        await host.stop()
      }
    })
  }
})

describe("the client address is the host's ctx.ip", () => {
  const wrongCode = { access_token_identifier: { authentication_code: 'wrong' } }
  /** Keyless failures count against the client address. */
  const send = (host: Host, from: string) =>
    rawRequest(host.url, { path: host.basePath + TOKEN, headers: { 'content-type': 'application/json', 'X-Forwarded-For': from }, body: JSON.stringify(wrongCode) })

  it('a host that trusts its proxy counts failures against the forwarded address', async () => {
    const host = await startHost({ db: 'memory:', demo: true, lockout: { addressThreshold: 2 } }, { proxy: true })
    try {
      await Promise.all([send(host, '203.0.113.1'), send(host, '203.0.113.1')])
      expect((await send(host, '203.0.113.1')).status).toBe(429)
      expect((await send(host, '203.0.113.2')).status).toBe(401)
    } finally {
      await host.stop()
    }
  })

  it('a host that does not trust a proxy ignores X-Forwarded-For (the issuer does not override it)', async () => {
    const host = await startHost({ db: 'memory:', demo: true, lockout: { addressThreshold: 2 } }, { proxy: false })
    try {
      await Promise.all([send(host, '203.0.113.1'), send(host, '203.0.113.1')])
      expect((await send(host, '203.0.113.2')).status).toBe(429)
    } finally {
      await host.stop()
    }
  })
})

describe("a host whose body parser runs before the issuer's middleware", () => {
  it('answers the token route at once with MALFORMEDREQUEST saying why, instead of waiting for a body already read', async () => {
    const bodyParser: Middleware = async (ctx, next) => {
      const chunks: Buffer[] = []
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer)
      ;(ctx.request as { body?: unknown }).body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null')
      await next()
    }
    const host = await startHost({ db: 'memory:', demo: true }, { before: bodyParser })
    try {
      const answer = sendCase(host, tokenCases[0]!)
      const timeout = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 5_000).unref())
      const r = await Promise.race([answer, timeout])
      expect(r).not.toBe('hung')
      if (r === 'hung') return
      expect(r.status, r.text).toBe(400)
      expect(r.json.status.code).toBe('COM.CRM.EXCEPTION.VALIDATION.MALFORMEDREQUESTEXCEPTION')
      expect(r.json.status.message).toContain('read before')
      // The session route takes the token from the parsed body, as the session middleware does behind any parser.
      const session = await rawRequest(host.url, { method: 'GET', path: `${host.basePath}/authentication/consumer_application_key/session?token=abc` })
      expect(session.status).toBe(401)
      expect(session.json.status.code).toBe('COM.CRM.EXCEPTION.AUTHENTICATION.INVALIDTOKENEXCEPTION')
    } finally {
      await host.stop()
    }
  })
})

describe('import, verifier and a store object of the caller', () => {
  it('imports the typed document, issues on it, verifies with revocation on the same store, and leaves the store open', async () => {
    const store = new MemoryStore()
    const host = await startHost({ db: store, revocationCacheSeconds: 0 })
    const summary = await host.auth.import(demoDocument)
    expect(summary.organisations.created).toBe(1)
    const issued = await rawRequest(host.url, { path: host.basePath + TOKEN, headers: { Authorization: EXAMPLE_AUTHORIZATION, 'content-type': 'application/json' }, body: EXAMPLE_BODY })
    expect(issued.status, issued.text).toBe(200)
    const token = issued.json.data.token as string
    expect(await host.auth.verifier.verifyToken(token)).toMatchObject({ session: { organisation: 'ps_dev', unit: '1' } })
    await store.setKeyStatus(summary.keyDigests[0]!, 'REVOKED')
    expect(await host.auth.verifier.verifyToken(token)).toMatchObject({ error: { name: 'INVALIDTOKEN' } })
    await host.stop()
    expect(await store.listOrganisations()).toHaveLength(1)
  })

  it('refuses a bad document with an ImportError naming each problem, writing nothing', async () => {
    const store = new MemoryStore()
    const auth = await createConsumerAuth({ db: store, logLevel: 'silent' })
    const bad = { ...demoDocument, units: [{ organisation: 'nowhere', id: '1', name: 'x' }] }
    await expect(auth.import(bad)).rejects.toMatchObject({ name: 'ImportError', code: 'ERR_CONSUMER_AUTH_IMPORT', problems: expect.arrayContaining([expect.stringContaining('units[0].organisation')]) })
    expect(await store.listOrganisations()).toHaveLength(0)
    await auth.close()
  })
})

describe('options decoded eagerly, by the service settings table', () => {
  const rejects = async (options: unknown, ...mentions: string[]) => {
    const e = await createConsumerAuth(options as ConsumerAuthOptions).then(() => undefined, (err: unknown) => err)
    expect(e).toMatchObject({ name: 'ConfigError', code: 'ERR_CONSUMER_AUTH_CONFIG' })
    for (const m of mentions) expect((e as Error).message).toContain(m)
  }
  it('names the option and the rule it broke', async () => {
    await rejects({ db: 'mysql://x' }, 'option db', 'sqlite:PATH')
    await rejects({ db: 'memory:', release: 'R16' }, 'option release', 'R<major>.<minor>.<patch>')
    await rejects({ db: 'memory:', lockout: { keyThreshold: 0 } }, 'option lockout.keyThreshold', '1 to 1000000')
    await rejects({ db: 'memory:', basePath: 'crmapi/' }, 'option basePath')
    await rejects({ db: 'memory:', claimTimes: 'iso' }, 'option claimTimes', 'number, string')
    await rejects({}, 'option db is required')
  })
  it('suggests the nearest known option for an unknown one, and says what the host owns instead', async () => {
    await rejects({ db: 'memory:', relase: 'R16.2.0' }, 'did you mean "release"')
    await rejects({ db: 'memory:', lockout: { keyTreshold: 3 } }, 'did you mean "lockout.keyThreshold"')
    await rejects({ db: 'memory:', trustProxy: true }, 'trustProxy', 'proxy')
  })
  it('a store that cannot be opened is a StoreError with its code, the password masked', async () => {
    const e = await createConsumerAuth({ db: 'postgres://u:hunter2@127.0.0.1:1/none', logLevel: 'silent', secrets: await generateSecrets() }).then(() => undefined, (err: unknown) => err)
    expect(e).toMatchObject({ name: 'StoreError', code: 'ERR_CONSUMER_AUTH_STORE' })
    expect((e as Error).message).not.toContain('hunter2')
  })
})
