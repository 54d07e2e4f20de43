/**
 * SPEC 8: several instances on one PostgreSQL database. Two `serve` processes of the built CLI, started at the same
 * moment on one empty schema with one secrets file: both migrate (each migration applied once), both become ready,
 * both issue tokens for what `import` wrote, a session one signed is valid at the other, and a key revoked through
 * the CLI is refused by both on the next request.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { migrations } from '../../adapters/store/sql/migrations.js'
import { describeWithPostgres, withPostgresSchema, type PostgresSchema } from '../support/postgres.js'
import { code, ensureBuilt, postExample, request, runCli, SESSION_PATH, startServe, writeSecretsFile, type ServeProcess } from './processes.js'
import { EXAMPLE_KEY, exampleDocument } from '../support/example.js'

await describeWithPostgres('two service processes on one PostgreSQL database', () => {
  let pg: PostgresSchema | undefined
  let dir: string
  let secretsFile: string
  let importFile: string
  const services: ServeProcess[] = []

  beforeAll(async () => {
    await ensureBuilt()
    pg = await withPostgresSchema()
    dir = mkdtempSync(join(tmpdir(), 'consumer-auth-pg-two-'))
    secretsFile = await writeSecretsFile(dir)
    importFile = join(dir, 'spec.json')
    writeFileSync(importFile, JSON.stringify(exampleDocument()))
  }, 120_000)

  afterAll(async () => {
    const codes = await Promise.all(services.map((s) => s.stop()))
    await pg?.drop()
    if (dir) rmSync(dir, { recursive: true, force: true })
    // Both stopped gracefully on SIGTERM.
    expect(codes).toEqual(services.map(() => 0))
  })

  test('start together, migrate once, issue tokens from one import, and see a revocation made through the CLI', async () => {
    const db = pg!.url
    const cli = (...args: string[]) => runCli(dir, [...args, '--db', db, '--secrets-file', secretsFile])

    // Started at the same moment, on an empty schema: both migrate, neither fails.
    const serveArgs = ['--db', db, '--no-demo']
    const started = await Promise.allSettled([0, 1].map(() => startServe(dir, serveArgs, { SECRETS_FILE: secretsFile }, 20_000)))
    for (const s of started) if (s.status === 'fulfilled') services.push(s.value)
    expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'started'))).toEqual(['started', 'started'])
    const [a, b] = services as [ServeProcess, ServeProcess]
    for (const s of services) expect(s.stderr()).toBe('')

    const { rows } = await pg!.admin(`select name from ${pg!.schema}.schema_migrations order by name`)
    expect(rows.map((r) => r.name)).toEqual(migrations.map((m) => m.name))

    for (const s of services) expect((await request(s.url, '/health/ready')).status).toBe(200)

    // Nothing imported yet (no demo seed): the key is unknown to both.
    for (const s of services) {
      const r = await postExample(s.url)
      expect(r.status).toBe(401)
      expect(r.body.status.code).toBe(code('INVALIDAPPLICATIONKEY', 'AUTHENTICATION'))
    }

    const imported = await runCli(dir, ['import', importFile, '--db', db], { SECRETS_FILE: secretsFile })
    expect(imported.code, imported.stderr).toBe(0)

    // Both issue tokens for what the import wrote (same pepper), signed with the same key ring.
    const tokens: string[] = []
    for (const s of services) {
      const r = await postExample(s.url)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      tokens.push(r.body.data.token as string)
    }
    const session = (s: ServeProcess, token: string) => request(s.url, SESSION_PATH, { headers: { authorization: `Bearer ${token}` } })
    expect((await session(b, tokens[0]!)).status).toBe(200)
    expect((await session(a, tokens[1]!)).status).toBe(200)

    // Revoked through the CLI (a third process): the other instance refuses the key on the very next request.
    const revoked = await cli('keys', 'revoke', EXAMPLE_KEY)
    expect(revoked.code, revoked.stderr).toBe(0)
    expect(revoked.stdout).toContain('revoked')
    for (const s of [b, a]) {
      const r = await postExample(s.url)
      expect(r.status, JSON.stringify(r.body)).toBe(401)
      expect(r.body.status.code).toBe(code('INVALIDAPPLICATIONKEY', 'AUTHENTICATION'))
    }
    const list = await runCli(dir, ['keys', 'list', '--json', '--db', db])
    expect(list.code, list.stderr).toBe(0)
    const listed = JSON.parse(list.stdout) as Array<{ prefix: string; status: string }>
    expect(listed).toEqual([expect.objectContaining({ prefix: EXAMPLE_KEY.slice(0, 6), status: 'REVOKED' })])

    for (const s of services) {
      expect(s.exitCode()).toBeUndefined()
      expect(s.stdout()).not.toContain(EXAMPLE_KEY)
      expect(s.stderr()).toBe('')
    }
  }, 60_000)
})
