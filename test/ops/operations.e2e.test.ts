/**
 * The operator's day, end to end, on SQLite and on PostgreSQL: a `serve` process and the CLI as child processes on
 * one database and one secrets file, over HTTP. Release (logout) then the session route refuses; five wrong pass
 * codes, 429, `lockouts clear`, the right pass code 200; `sessions revoke --consumer` refuses every session of that
 * consumer and no other; `audit list --json` shows the events of a session just issued, and pages; `secrets rotate`
 * then SIGHUP: new tokens carry the new kid and old ones still verify; a rotation to ES256 by SIGHUP publishes its
 * JWKS without a restart.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeWithPostgres, withPostgresSchema, type PostgresSchema } from '../support/postgres.js'
import { code, ensureBuilt, postExample, request, runCli, SESSION_PATH, startServe, TOKEN_PATH, writeSecretsFile, type ServeProcess } from '../postgres/processes.js'
import { EXAMPLE_ARI, EXAMPLE_AUTHORIZATION, EXAMPLE_CODE, EXAMPLE_IDENTIFIER, EXAMPLE_KEY, EXAMPLE_ORGANISATION, EXAMPLE_PASS_CODE, EXAMPLE_SECRETS, showsSecret } from '../support/example.js'
import { decodeJwtPart } from '../support/jwt.js'

const RELEASE_PATH = '/crmapi/rest/v2/authentication/token/release'
const OTHER = { contact: 'C2C2C2C2C2C2C2C2C2C2C2C2C2C2C2C2', ari: '7C1D0A2B3E4F405162738495A6B7C8D9', code: 'other-consumer-Xq7f9LzP2mVw' }

const header = (token: string) => decodeJwtPart(token, 0) as { kid: string; alg: string }
const jti = (token: string): string => decodeJwtPart(token, 1).jti

const operatorsDay = (engine: string, database: () => Promise<{ url: string; drop(): Promise<void> }>) => {
  let dir: string
  let db: { url: string; drop(): Promise<void> }
  let secrets: string
  let serve: ServeProcess
  /** A second instance on the same database and secrets: what one instance or the CLI does, the other sees. */
  let secondInstance: ServeProcess
  const cli = async (args: ReadonlyArray<string>, expectCode = 0) => {
    // The service's own secrets file: the pepper of the digests (keys, codes) is the one the server uses.
    const r = await runCli(dir, [...args, '--db', db.url], { SECRETS_FILE: secrets })
    expect(r.code, `${args.join(' ')}: ${r.stderr}${r.stdout}`).toBe(expectCode)
    return r
  }
  const cliJson = async (args: ReadonlyArray<string>) => JSON.parse((await cli([...args, '--json'])).stdout)
  const issue = async (body: unknown = { access_token_identifier: { authentication_code: EXAMPLE_CODE }, unit: '1' }, auth = EXAMPLE_AUTHORIZATION) => {
    const r = await request(serve.url, TOKEN_PATH, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return r
  }
  const token = async (body?: unknown) => {
    const r = await issue(body)
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    return r.body.data.token as string
  }
  const session = (t: string) => request(serve.url, `${SESSION_PATH}?token=${t}`)
  const sessionOnOther = (t: string) => request(secondInstance.url, `${SESSION_PATH}?token=${t}`)
  /** The session route refuses a session token as INVALIDTOKEN. */
  const expectRefused = async (t: string) =>
    expect(await session(t)).toMatchObject({ status: 401, body: { status: { code: code('INVALIDTOKEN', 'AUTHENTICATION') } } })

  beforeAll(async () => {
    await ensureBuilt()
    dir = mkdtempSync(join(tmpdir(), 'consumer-auth-operations-'))
    db = await database()
    secrets = await writeSecretsFile(dir)
    // Room in the pass-code queue for the concurrent wrong pass codes below (the default is small on a small machine).
    serve = await startServe(dir, ['--db', db.url, '--secrets-file', secrets, '--passcode-queue', '100'])
    secondInstance = await startServe(dir, ['--db', db.url, '--secrets-file', secrets, '--no-demo'])
  }, 60_000)
  afterAll(async () => {
    await secondInstance?.stop()
    await serve?.stop()
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  describe(`the operator's day on ${engine}`, () => {
    it('release (body or bearer) answers OK; the session route refuses the released session from then on, and no other', async () => {
      const [released, bearer, kept] = [await token(), await token(), await token()]
      expect((await session(released)).status).toBe(200)
      const r = await request(serve.url, RELEASE_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: released }) })
      expect(r).toMatchObject({ status: 200, body: { data: null, status: { code: 'OK' } } })
      expect((await request(serve.url, RELEASE_PATH, { method: 'POST', headers: { authorization: `Bearer ${bearer}` } })).status).toBe(200)
      await expectRefused(released)
      await expectRefused(bearer)
      expect((await session(kept)).status).toBe(200)
      // The other instance refuses the released sessions too, at once, and keeps the other one.
      expect((await Promise.all([released, bearer, kept].map(sessionOnOther))).map((a) => a.status)).toEqual([401, 401, 200])
      const invalid = await request(serve.url, RELEASE_PATH, { method: 'POST', headers: { authorization: 'Bearer nope' } })
      expect(invalid).toMatchObject({ status: 401, body: { status: { description: 'INVALIDTOKEN' } } })
    }, 60_000)

    it('five wrong pass codes, then 429; `lockouts list` shows the lock-out; `lockouts clear`; the right pass code 200', async () => {
      await cli(['access-tokens', 'create', '--organisation', EXAMPLE_ORGANISATION, '--accounts-receivable-id', EXAMPLE_ARI, '--identifier', EXAMPLE_IDENTIFIER, '--pass-code', EXAMPLE_PASS_CODE])
      const attempt = (pass: string) => issue({ access_token_identifier: { identifier: EXAMPLE_IDENTIFIER, pass_code: pass }, unit: '1' })
      const wrong = await Promise.all(Array.from({ length: 5 }, (_, i) => attempt(`wrong-${i}`)))
      expect(wrong.map((r) => r.status)).toEqual([401, 401, 401, 401, 401])
      expect((await attempt(EXAMPLE_PASS_CODE)).status).toBe(429)
      const locked = await cliJson(['lockouts', 'list'])
      // Five failures: the refused sixth attempt is not counted (a claim at the threshold writes nothing).
      expect(locked).toContainEqual(expect.objectContaining({ kind: 'identifier', subject: `${EXAMPLE_ORGANISATION}/maria`, failures: 5, threshold: 5, locked_until: expect.any(String) }))
      // The key's own counter is listed by its digest and prefix, never by the key.
      expect(JSON.stringify(locked)).not.toContain(EXAMPLE_KEY)
      expect(await cliJson(['lockouts', 'clear', '--organisation', EXAMPLE_ORGANISATION, '--identifier', EXAMPLE_IDENTIFIER])).toEqual({
        cleared: [{ kind: 'identifier', subject: `${EXAMPLE_ORGANISATION}/maria`, failures: 5 }],
      })
      const right = await attempt(EXAMPLE_PASS_CODE)
      expect(right.status, JSON.stringify(right.body)).toBe(200)
      const cleared = await cliJson(['audit', 'list', '--type', 'lockout_cleared', '--limit', '1'])
      expect(cleared.events[0]).toMatchObject({ type: 'lockout_cleared', subject: `identifier ${EXAMPLE_ORGANISATION}/maria`, failures: 5 })
      // Bad input: no subject, two subjects, an identifier without its organisation.
      await cli(['lockouts', 'clear'], 2)
      await cli(['lockouts', 'clear', '--address', '::1', '--key', EXAMPLE_KEY], 2)
      await cli(['lockouts', 'clear', '--identifier', EXAMPLE_IDENTIFIER], 2)
      expect((await cliJson(['lockouts', 'clear', '--address', '203.0.113.9'])).cleared).toEqual([])
      // The key's counter (the wrong pass codes counted against it too), named by the key in clear.
      expect((await cliJson(['lockouts', 'clear', '--key', EXAMPLE_KEY])).cleared).toEqual([
        { kind: 'key', subject: expect.stringMatching(/^[0-9a-f]{64}$/), failures: expect.any(Number) },
      ])
    }, 90_000)

    it('`sessions revoke --consumer` refuses every session of that consumer, and no other consumer\'s', async () => {
      await cli(['consumers', 'create', '--organisation', EXAMPLE_ORGANISATION, '--contact-information-id', OTHER.contact, '--accounts-receivable-id', OTHER.ari])
      await cli(['access-tokens', 'create', '--organisation', EXAMPLE_ORGANISATION, '--accounts-receivable-id', OTHER.ari, '--authentication-code', OTHER.code])
      const mine = [await token(), await token(), await token()]
      const othersToken = await token({ access_token_identifier: { authentication_code: OTHER.code }, unit: '1' })
      for (const t of [...mine, othersToken]) expect((await session(t)).status).toBe(200)
      const listed = await cliJson(['sessions', 'list', '--organisation', EXAMPLE_ORGANISATION, '--consumer', EXAMPLE_ARI])
      for (const t of mine) {
        expect(listed).toContainEqual(expect.objectContaining({ session_id: jti(t), mode: 'AuthenticationCode', key_prefix: 'EE73C0', released: false }))
      }
      expect(listed.map((s: { session_id: string }) => s.session_id)).not.toContain(jti(othersToken))
      const revoked = await cliJson(['sessions', 'revoke', '--organisation', EXAMPLE_ORGANISATION, '--consumer', EXAMPLE_ARI])
      expect(revoked.revoked).toEqual(expect.arrayContaining(mine.map(jti)))
      const after = await Promise.all([...mine, othersToken].map(session))
      expect(after.map((r) => r.status)).toEqual([401, 401, 401, 200])
      expect((await Promise.all([...mine, othersToken].map(sessionOnOther))).map((r) => r.status)).toEqual([401, 401, 401, 200])
      expect((await cliJson(['sessions', 'list', '--organisation', EXAMPLE_ORGANISATION, '--consumer', EXAMPLE_ARI])).every((s: { released: boolean }) => s.released)).toBe(true)
      // One session by its id; again is harmless; a malformed or unknown id is bad input.
      expect(await cliJson(['sessions', 'revoke', jti(othersToken)])).toEqual({ revoked: [jti(othersToken)], alreadyReleased: [] })
      expect(await cliJson(['sessions', 'revoke', jti(othersToken)])).toEqual({ revoked: [], alreadyReleased: [jti(othersToken)] })
      await expectRefused(othersToken)
      await cli(['sessions', 'revoke', 'not-a-session'], 2)
      await cli(['sessions', 'revoke', '0'.repeat(32)], 2)
      await cli(['sessions', 'revoke'], 2)
      await cli(['sessions', 'list', '--organisation', EXAMPLE_ORGANISATION], 2)
    }, 90_000)

    it('`audit list --json` shows the events of a session just issued, newest first, and pages by cursor', async () => {
      const t = await token()
      const newest = await cliJson(['audit', 'list', '--type', 'issued', '--limit', '1'])
      expect(newest.events[0]).toMatchObject({ type: 'issued', session_id: jti(t), organisation: EXAMPLE_ORGANISATION, consumer: EXAMPLE_ARI, key_prefix: 'EE73C0' })
      await request(serve.url, RELEASE_PATH, { method: 'POST', headers: { authorization: `Bearer ${t}` } })
      const ofConsumer = await cliJson(['audit', 'list', '--consumer', EXAMPLE_ARI, '--limit', '2'])
      expect(ofConsumer.events.map((e: { type: string; session_id: string }) => [e.type, e.session_id])).toEqual([['released', jti(t)], ['issued', jti(t)]])
      // Pages: every event exactly once, newest first, the last page says there is no next one.
      const all = await cliJson(['audit', 'list', '--limit', '1000'])
      expect(all.nextCursor).toBeNull()
      const paged: number[] = []
      let cursor: string | null = null
      do {
        const page: { events: Array<{ id: number }>; nextCursor: string | null } = await cliJson(['audit', 'list', '--limit', '7', ...(cursor ? ['--cursor', cursor] : [])])
        paged.push(...page.events.map((e) => e.id))
        cursor = page.nextCursor
      } while (cursor !== null)
      expect(paged).toEqual(all.events.map((e: { id: number }) => e.id))
      expect([...paged].sort((a, b) => b - a)).toEqual(paged)
      const text = (await cli(['audit', 'list', '--limit', '2'])).stdout
      expect(text).toMatch(/next page: --cursor \d+/)
      // Never a secret: not the key, the codes or a token.
      for (const secret of [...EXAMPLE_SECRETS, OTHER.code, t]) expect(showsSecret(JSON.stringify(all), secret), secret).toBe(false)
      await cli(['audit', 'list', '--type', 'nope'], 2)
      await cli(['audit', 'list', '--limit', '0'], 2)
      await cli(['audit', 'list', '--since', 'yesterday'], 2)
      await cli(['audit', 'list', '--cursor', 'x'], 2)
    }, 120_000)

    it('`secrets rotate` then SIGHUP: new tokens carry the new kid, tokens of the old key still verify; the file stays 0600', async () => {
      const old = await token()
      const before = header(old).kid
      const rotated = await cliJson(['secrets', 'rotate', '--secrets-file', secrets])
      expect(rotated.kid).not.toBe(before)
      expect(rotated.keys).toEqual([
        { kid: before, alg: 'HS256', active: false, retiredAt: expect.any(String) },
        { kid: rotated.kid, alg: 'HS256', active: true, retiredAt: null },
      ])
      expect(statSync(secrets).mode & 0o777).toBe(0o600)
      serve.child.kill('SIGHUP')
      await expect.poll(async () => header(await token()).kid, { timeout: 10_000, interval: 100 }).toBe(rotated.kid)
      expect((await session(old)).status).toBe(200)
      // Nothing to prune yet: the old key's tokens have not expired.
      expect((await cliJson(['secrets', 'prune', '--secrets-file', secrets])).dropped).toEqual([])
      await cli(['secrets', 'activate', before, '--secrets-file', secrets], 2)
      await cli(['secrets', 'rotate', '--alg', 'RS256', '--secrets-file', secrets], 2)
    }, 60_000)

    it('a rotation to ES256 by SIGHUP publishes its JWKS without a restart; --stage and activate in two rounds', async () => {
      expect((await request(serve.url, '/.well-known/jwks.json')).status).toBe(404)
      const staged = await cliJson(['secrets', 'rotate', '--alg', 'ES256', '--stage', '--secrets-file', secrets])
      expect(staged).toMatchObject({ staged: true })
      serve.child.kill('SIGHUP')
      await expect.poll(async () => (await request(serve.url, '/.well-known/jwks.json')).body?.keys?.map((k: { kid: string }) => k.kid), { timeout: 10_000, interval: 100 })
        .toEqual([staged.kid])
      expect(header(await token()).alg).toBe('HS256') // staged: it verifies, it does not sign yet
      await cliJson(['secrets', 'activate', staged.kid, '--secrets-file', secrets])
      serve.child.kill('SIGHUP')
      await expect.poll(async () => header(await token()), { timeout: 10_000, interval: 100 }).toEqual({ typ: 'JWT', alg: 'ES256', kid: staged.kid })
      const es = await token()
      expect((await session(es)).status).toBe(200)
      expect((await postExample(serve.url)).status).toBe(200)
    }, 60_000)
  })
}

operatorsDay('SQLite', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'consumer-auth-operations-db-')), 'consumer-auth.db')
  return { url: `sqlite:${file}`, drop: async () => rmSync(join(file, '..'), { recursive: true, force: true }) }
})

await describeWithPostgres('the operator\'s day on PostgreSQL', () => {
  let pg: PostgresSchema
  operatorsDay('PostgreSQL', async () => {
    pg = await withPostgresSchema()
    return { url: pg.url, drop: () => pg.drop() }
  })
})
