/**
 * Every throttling subject holds under a burst: hundreds of attempts sent at once over HTTP against a subject with k
 * attempts left check at most k credentials, on every store (memory, SQLite, PostgreSQL) and with two service
 * instances on one SQLite file or one PostgreSQL schema. "Checked" is counted where the credential is checked: the
 * access-token look-up by code digest (keyless and keyed code guesses) and the scrypt derivations of the process
 * (pass codes). Successful logins, however many, never lock their key or address out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DatabaseUrl } from '../../composition/config.js'
import { generateSecrets } from '../../adapters/crypto/generate-secrets.js'
import { describeWithPostgres, withPostgresSchema, type PostgresSchema } from '../support/postgres.js'
import { countScrypt, login, outcome, startSecuredService, withCode, withPassCode, type SecuredService } from './support.js'
import { testClock } from '../support/doubles.js'
import { EXAMPLE_ARI, EXAMPLE_CODE, EXAMPLE_KEY, exampleDocument } from '../support/example.js'

const BURST = 200
const KEY_THRESHOLD = 50
const ADDRESS_THRESHOLD = 20
const IDENTIFIER_THRESHOLD = 5

/** Keys of their own per test, so that one test's count does not meet another's. */
const KEY_CODE_BURST = 'A0000000000000000000000000000001'
const KEY_PASS_BURST = 'A0000000000000000000000000000002'
const KEY_SUCCESSES = 'A0000000000000000000000000000003'

const document = () => {
  const doc = exampleDocument()
  const key = (key: string) => ({ ...doc.web_api_keys[0]!, key })
  return { ...doc, web_api_keys: [...doc.web_api_keys, key(KEY_CODE_BURST), key(KEY_PASS_BURST), key(KEY_SUCCESSES)] }
}

const FLAGS = {
  'trust-proxy': 'true',
  'lockout-key': String(KEY_THRESHOLD),
  'lockout-address': String(ADDRESS_THRESHOLD),
  // Room for every pass-code attempt of a burst: here the lock-out, not load shedding, must bound the checks.
  'passcode-queue': '1000',
  'passcode-concurrency': '3',
}

/** Each test comes from an address of its own (the service trusts the proxy's X-Forwarded-For). */
const from = (address: string) => ({ 'X-Forwarded-For': address })

/** With BURST_REPORT=1, each burst's count of credentials checked is printed (the table of docs/security.md). */
const report = (store: string, burst: string, checked: number) => {
  if (process.env['BURST_REPORT']) console.log(`| ${store} | ${burst} | ${checked} |`)
}

const tally = (outcomes: string[]) => outcomes.reduce<Record<string, number>>((t, o) => ({ ...t, [o]: (t[o] ?? 0) + 1 }), {})

interface Instances {
  readonly all: ReadonlyArray<SecuredService>
  /** Access-token look-ups by code digest, over all instances. */
  lookups(): number
  stop(): Promise<void>
}

/** Starts `n` services on one database, counting the code look-ups of their stores. */
const startInstances = async (n: number, options: { db?: DatabaseUrl; memory?: boolean }): Promise<Instances> => {
  const secrets = await generateSecrets()
  const clock = testClock()
  const first = await startSecuredService({ ...options, secrets, clock, flags: FLAGS })
  // The others open the first one's database (for SQLite, its file).
  const rest = await Promise.all(Array.from({ length: n - 1 }, () => startSecuredService({ db: first.db, secrets, clock, flags: FLAGS })))
  const all = [first, ...rest]
  let lookups = 0
  for (const s of all) {
    const find = s.store.findByAuthenticationCode.bind(s.store)
    s.store.findByAuthenticationCode = (...args) => {
      lookups++
      return find(...args)
    }
  }
  await first.import(document())
  return {
    all,
    lookups: () => lookups,
    stop: async () => {
      for (const s of rest) await s.stop()
      await first.stop()
    },
  }
}

const burstSuite = (name: string, open: () => Promise<Instances>) =>
  describe(`${name}: a burst checks at most the attempts left`, () => {
    let s: Instances
    let scrypt: ReturnType<typeof countScrypt>
    beforeAll(async () => {
      scrypt = countScrypt()
      s = await open()
    })
    afterAll(async () => {
      scrypt?.restore()
      await s?.stop()
    })
    /** The i-th request goes to instance i mod n. */
    const via = (i: number) => s.all[i % s.all.length]!.url
    const burst = async (send: (url: string, i: number) => ReturnType<typeof login>) =>
      (await Promise.all(Array.from({ length: BURST }, (_, i) => send(via(i), i)))).map(outcome)

    it(`address: ${BURST} keyless code guesses at once, threshold ${ADDRESS_THRESHOLD}`, async () => {
      const before = s.lookups()
      const outcomes = await burst((url, i) => login(url, withCode(`guess-${i}`), undefined, from('198.51.100.1')))
      report(name, `${BURST} keyless code guesses, one address (threshold ${ADDRESS_THRESHOLD})`, s.lookups() - before)
      expect(s.lookups() - before).toBeLessThanOrEqual(ADDRESS_THRESHOLD)
      expect(tally(outcomes)).toEqual({ INVALIDACCESSTOKEN: ADDRESS_THRESHOLD, TOOMANYATTEMPTS: BURST - ADDRESS_THRESHOLD })
      expect(outcome(await login(via(1), withCode(EXAMPLE_CODE), undefined, from('198.51.100.1')))).toBe('TOOMANYATTEMPTS')
    })

    it(`address: ${BURST} keyless code guesses at once with 2 failures already counted`, async () => {
      for (let i = 0; i < 2; i++) expect(outcome(await login(via(i), withCode(`early-${i}`), undefined, from('198.51.100.2')))).toBe('INVALIDACCESSTOKEN')
      const before = s.lookups()
      const outcomes = await burst((url, i) => login(url, withCode(`guess-${i}`), undefined, from('198.51.100.2')))
      report(name, `${BURST} keyless code guesses, 2 failures already counted (${ADDRESS_THRESHOLD - 2} left)`, s.lookups() - before)
      expect(s.lookups() - before).toBeLessThanOrEqual(ADDRESS_THRESHOLD - 2)
      expect(tally(outcomes)).toEqual({ INVALIDACCESSTOKEN: ADDRESS_THRESHOLD - 2, TOOMANYATTEMPTS: BURST - ADDRESS_THRESHOLD + 2 })
    })

    it(`key: ${BURST} code guesses with one key at once, threshold ${KEY_THRESHOLD}`, async () => {
      const before = s.lookups()
      const outcomes = await burst((url, i) => login(url, withCode(`guess-${i}`), KEY_CODE_BURST, from(`198.51.101.${i % 250}`)))
      report(name, `${BURST} code guesses with one key (threshold ${KEY_THRESHOLD})`, s.lookups() - before)
      expect(s.lookups() - before).toBeLessThanOrEqual(KEY_THRESHOLD)
      expect(tally(outcomes)).toEqual({ INVALIDACCESSTOKEN: KEY_THRESHOLD, TOOMANYATTEMPTS: BURST - KEY_THRESHOLD })
      expect(outcome(await login(via(0), withCode(EXAMPLE_CODE), KEY_CODE_BURST))).toBe('TOOMANYATTEMPTS')
    })

    it(`key: ${BURST} distinct identifiers with one key at once, threshold ${KEY_THRESHOLD}: at most that many scrypts`, async () => {
      scrypt.reset()
      const outcomes = await burst((url, i) => login(url, withPassCode(`nobody-${i}`, '0000'), KEY_PASS_BURST, from(`198.51.102.${i % 250}`)))
      report(name, `${BURST} distinct identifiers with one key (threshold ${KEY_THRESHOLD}), scrypts`, scrypt.count())
      expect(scrypt.count()).toBeLessThanOrEqual(KEY_THRESHOLD)
      expect(tally(outcomes)).toEqual({ INVALIDACCESSTOKEN: KEY_THRESHOLD, TOOMANYATTEMPTS: BURST - KEY_THRESHOLD })
    })

    it(`identifier: ${BURST} wrong pass codes for one identifier at once, threshold ${IDENTIFIER_THRESHOLD}`, async () => {
      await s.all[0]!.import({ access_tokens: [{ organisation: 'ps_dev', accounts_receivable_id: EXAMPLE_ARI, identifier: 'burst', pass_code: '9999', state: 'EFFECTIVE' }] })
      scrypt.reset()
      const outcomes = await burst((url, i) => login(url, withPassCode('burst', String(1000 + i)), EXAMPLE_KEY, from(`198.51.103.${i % 250}`)))
      report(name, `${BURST} wrong pass codes, one identifier (threshold ${IDENTIFIER_THRESHOLD}), scrypts`, scrypt.count())
      expect(scrypt.count()).toBeLessThanOrEqual(IDENTIFIER_THRESHOLD)
      expect(tally(outcomes)).toEqual({ INVALIDACCESSTOKEN: IDENTIFIER_THRESHOLD, TOOMANYATTEMPTS: BURST - IDENTIFIER_THRESHOLD })
    })

    it('successful logins in bursts never lock their key or address out', async () => {
      // 4 bursts of 40 (160 successes, over three times the key threshold); then the key still has all its attempts.
      for (let round = 0; round < 4; round++) {
        const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => login(via(i), withCode(EXAMPLE_CODE), KEY_SUCCESSES, from('198.51.104.1'))))
        expect(tally(outcomes.map(outcome))).toEqual({ OK: 40 })
      }
      const wrong = await Promise.all(Array.from({ length: KEY_THRESHOLD - 1 }, (_, i) => login(via(i), withCode(`bad-${i}`), KEY_SUCCESSES, from('198.51.104.2'))))
      expect(tally(wrong.map(outcome))).toEqual({ INVALIDACCESSTOKEN: KEY_THRESHOLD - 1 })
      expect(outcome(await login(via(0), withCode(EXAMPLE_CODE), KEY_SUCCESSES))).toBe('OK')
      // Keyless: 4 bursts of 15 successes from one address (threshold 20), then it still has all its attempts.
      for (let round = 0; round < 4; round++) {
        const outcomes = await Promise.all(Array.from({ length: 15 }, (_, i) => login(via(i), withCode(EXAMPLE_CODE), undefined, from('198.51.104.3'))))
        expect(tally(outcomes.map(outcome))).toEqual({ OK: 15 })
      }
      const guesses = await Promise.all(Array.from({ length: ADDRESS_THRESHOLD - 1 }, (_, i) => login(via(i), withCode(`bad-${i}`), undefined, from('198.51.104.3'))))
      expect(tally(guesses.map(outcome))).toEqual({ INVALIDACCESSTOKEN: ADDRESS_THRESHOLD - 1 })
      expect(outcome(await login(via(0), withCode(EXAMPLE_CODE), undefined, from('198.51.104.3')))).toBe('OK')
    })
  })

burstSuite('memory', () => startInstances(1, { memory: true }))
burstSuite('SQLite', () => startInstances(1, {}))
burstSuite('SQLite, two instances on one file', () => startInstances(2, {}))

await describeWithPostgres('PostgreSQL bursts', () => {
  let pg: PostgresSchema
  let pg2: PostgresSchema
  beforeAll(async () => {
    ;[pg, pg2] = await Promise.all([withPostgresSchema(), withPostgresSchema()])
  })
  afterAll(async () => {
    await pg?.drop()
    await pg2?.drop()
  })
  burstSuite('PostgreSQL', () => startInstances(1, { db: pg.database }))
  burstSuite('PostgreSQL, two instances on one schema', () => startInstances(2, { db: pg2.database }))
})
