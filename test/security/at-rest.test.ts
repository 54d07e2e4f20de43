/**
 * Secrets at rest (SPEC 8): after the SPEC 9 example document (with the `maria` identifier token) is imported through
 * the real import path, imported again, and used by successful and failed logins, no store holds the key, the
 * authentication code, the pass code, a presented wrong secret, the deployment's secrets or an issued session
 * token in clear text. SQLite is scanned as raw bytes (the database file, its -wal and -shm: free pages and WAL
 * frames included); PostgreSQL as every row of every table of the schema, as text.
 *
 * The example's pass code `4711` is short enough to occur by chance inside hex digests, base64url hashes and
 * numbers, so for it an occurrence counts only when it is not part of such a longer run (see `clearOccurrences`).
 */
import { existsSync, readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeWithPostgres, withPostgresSchema, type PostgresSchema } from '../support/postgres.js'
import { login, outcome, startSecuredService, withCode, withPassCode, type SecuredService } from './support.js'
import { EXAMPLE_CODE, EXAMPLE_IDENTIFIER, EXAMPLE_KEY, EXAMPLE_PASS_CODE, exampleDocument } from '../support/example.js'

const WRONG = { key: 'WRONGKEY7E1D4C0A9B8F6E5D4C3B2A19', code: 'guessed-code-Zq81', passCode: 'wrong-pass-Xy77' }

/**
 * Occurrences of `needle` in `text` that are not inside a longer run of a hex digest (32+ of [0-9a-f]), of a
 * base64url hash, salt or id (16+ of [A-Za-z0-9_-]), or of a number (6+ digits); each with some context.
 */
const clearOccurrences = (text: string, needle: string): string[] => {
  const runAround = (at: number, alphabet: RegExp): number => {
    let from = at
    let to = at + needle.length
    while (from > 0 && alphabet.test(text[from - 1]!)) from--
    while (to < text.length && alphabet.test(text[to]!)) to++
    return to - from
  }
  const found: string[] = []
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
    const insideLongerRun = runAround(at, /[0-9a-f]/) >= 32 || runAround(at, /[A-Za-z0-9_-]/) >= 16 || runAround(at, /[0-9]/) >= 6
    if (!insideLongerRun) found.push(JSON.stringify(text.slice(Math.max(0, at - 24), at + needle.length + 24)))
  }
  return found
}

/** Makes the store see every kind of write: import twice, log in with every credential, fail with wrong ones. */
const exercise = async (s: SecuredService): Promise<string[]> => {
  await s.import(exampleDocument())
  await s.import(exampleDocument())
  const tokens: string[] = []
  for (const [body, key] of [[withCode(EXAMPLE_CODE), EXAMPLE_KEY], [withCode(EXAMPLE_CODE), undefined], [withPassCode(EXAMPLE_IDENTIFIER, EXAMPLE_PASS_CODE), EXAMPLE_KEY]] as const) {
    const r = await login(s.url, body, key)
    expect(r.status, r.text).toBe(200)
    tokens.push(r.json.data.token)
  }
  expect(outcome(await login(s.url, withCode(EXAMPLE_CODE), WRONG.key))).toBe('INVALIDAPPLICATIONKEY')
  expect(outcome(await login(s.url, withCode(WRONG.code), EXAMPLE_KEY))).toBe('INVALIDACCESSTOKEN')
  expect(outcome(await login(s.url, withCode(WRONG.code)))).toBe('INVALIDACCESSTOKEN')
  expect(outcome(await login(s.url, withPassCode(EXAMPLE_IDENTIFIER, WRONG.passCode), EXAMPLE_KEY))).toBe('INVALIDACCESSTOKEN')
  return tokens
}

/** Every string that must not be found, by name. */
const forbidden = (s: SecuredService, tokens: string[]): Record<string, string> => {
  const named: Record<string, string> = {
    key: EXAMPLE_KEY,
    'key, lower case': EXAMPLE_KEY.toLowerCase(),
    'key as sent in the Basic header': Buffer.from(`${EXAMPLE_KEY}:`).toString('base64'),
    'authentication code': EXAMPLE_CODE,
    'wrong key': WRONG.key,
    'wrong authentication code': WRONG.code,
    'wrong pass code': WRONG.passCode,
    pepper: s.secrets.pepper,
  }
  for (const k of s.secrets.signingKeys) if (k.alg === 'HS256') named[`signing key ${k.kid}`] = k.secret
  tokens.forEach((t, i) => {
    named[`session token ${i}`] = t
    named[`session token ${i} signature`] = t.split('.')[2]!
  })
  return named
}

const expectNoClearSecrets = (text: string, s: SecuredService, tokens: string[]) => {
  // Positive controls: the scan sees stored text at all.
  expect(text).toContain('Head office')
  expect(text).toContain(EXAMPLE_IDENTIFIER)
  for (const [name, secret] of Object.entries(forbidden(s, tokens))) expect(text.includes(secret), `${name} found in clear text`).toBe(false)
  expect(clearOccurrences(text, EXAMPLE_PASS_CODE), 'the pass code in clear text').toEqual([])
}

describe('secrets at rest in SQLite (raw file, WAL and shared memory)', () => {
  let s: SecuredService
  let tokens: string[]
  beforeAll(async () => {
    s = await startSecuredService()
    tokens = await exercise(s)
  })
  afterAll(async () => s?.stop())

  it('holds no key, code, pass code, secret or token in clear text', () => {
    if (s.db.engine !== 'sqlite') throw new Error('expected SQLite')
    const files = [s.db.path, `${s.db.path}-wal`, `${s.db.path}-shm`].filter(existsSync)
    expect(files.length).toBeGreaterThanOrEqual(2)
    const text = files.map((f) => readFileSync(f).toString('latin1')).join('\n')
    expectNoClearSecrets(text, s, tokens)
  })

  it('the pass-code scan does find a clear pass code (the check is not vacuous)', () => {
    expect(clearOccurrences('...\u0005maria4711\u0001...', EXAMPLE_PASS_CODE)).toHaveLength(1)
    expect(clearOccurrences('{"pass_code":"4711"}', EXAMPLE_PASS_CODE)).toHaveLength(1)
    expect(clearOccurrences(`d1e84711${'0'.repeat(40)}`, EXAMPLE_PASS_CODE)).toEqual([])
    expect(clearOccurrences('"at":1795847110', EXAMPLE_PASS_CODE)).toEqual([])
  })
})

await describeWithPostgres('secrets at rest in PostgreSQL (every row of every table, as text)', () => {
  let pg: PostgresSchema
  let s: SecuredService
  let tokens: string[]
  beforeAll(async () => {
    pg = await withPostgresSchema()
    s = await startSecuredService({ db: pg.database })
    tokens = await exercise(s)
  })
  afterAll(async () => {
    await s?.stop()
    await pg?.drop()
  })

  it('holds no key, code, pass code, secret or token in clear text', async () => {
    const tables = (await pg.admin(`select table_name from information_schema.tables where table_schema = '${pg.schema}' order by table_name`)).rows
      .map((r: { table_name: string }) => r.table_name)
    expect(tables).toEqual(expect.arrayContaining(['access_tokens', 'attempt_counters', 'audit_events', 'web_api_keys']))
    const dump: string[] = []
    for (const table of tables) {
      const rows = (await pg.admin(`select t::text as row from "${pg.schema}"."${table}" t`)).rows as { row: string }[]
      dump.push(`-- ${table}`, ...rows.map((r) => r.row))
    }
    expectNoClearSecrets(dump.join('\n'), s, tokens)
  })
})
