/**
 * Start-up refusals (docs/operations.md, "Start-up"): a configuration or a database the service cannot work with
 * stops the start with a clear message and an exit code, before anything is created, generated or seeded.
 */
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, readdirSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generateSecrets } from '../../adapters/crypto/generate-secrets.js'
import { describeWithPostgres, withPostgresSchema, type PostgresSchema } from '../support/postgres.js'
import { BIN, cleanEnv, ensureBuilt, run, tempDir, type Exited } from './child.js'

beforeAll(ensureBuilt, 120_000)

const dirs: Array<{ cleanup(): void }> = []
const fresh = () => {
  const d = tempDir()
  dirs.push(d)
  return d.dir
}
afterAll(() => dirs.forEach((d) => d.cleanup()))

const serveArgs = ['serve', '--host', '127.0.0.1', '--port', '0']
const secretsJson = async () => JSON.stringify(await generateSecrets())

describe('nothing is created before a refusal', () => {
  it('NODE_ENV=production with DEMO_SEED=true is refused (exit 2): the demo key and code are public', async () => {
    const dir = fresh()
    const r = await run(serveArgs, dir, cleanEnv({ NODE_ENV: 'production', DEMO_SEED: 'true', CONSUMER_AUTH_SECRETS: await secretsJson() }))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/production refuses the demo seed/)
    expect(readdirSync(dir)).toEqual([])
  })

  it('NODE_ENV=production without secrets is refused (exit 2) before the database is created', async () => {
    const dir = fresh()
    const r = await run(serveArgs, dir, cleanEnv({ NODE_ENV: 'production' }))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/No secrets are configured/)
    expect(readdirSync(dir)).toEqual([])
  })

  describe('with the port taken', () => {
    let taken: Server
    beforeAll(async () => {
      taken = createServer()
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    })
    afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())))

    it('the start fails (exit 1) before secrets are generated or the demo is seeded', async () => {
      const dir = fresh()
      const port = String((taken.address() as AddressInfo).port)
      const r = await run(['serve', '--host', '127.0.0.1', '--port', port], dir)
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/EADDRINUSE/)
      expect(readdirSync(dir)).toEqual([])
    })
  })
})

/** Runs the command as an unprivileged user when the tests run as root (as in CI), so that file modes bind. */
const runUnprivileged = (args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv): Promise<Exited> => {
  const asRoot = process.getuid?.() === 0
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], ...(asRoot ? { uid: 65534, gid: 65534 } : {}) })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })))
}

// Root writes a read-only file anyway, so as root the service runs as nobody; nobody must then be able to reach the
// checkout (a clone inside a 0700 directory, as `mktemp -d` makes, it cannot). Where it cannot, the case is not run,
// and says so: readiness-full-disk.test.ts refuses a SQLite database that takes no write at start-up as well.
const unprivilegedReachable =
  process.getuid?.() !== 0 || spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(BIN)})`], { uid: 65534, gid: 65534 }).status === 0
if (!unprivilegedReachable) console.warn(`startup-refusals: user nobody cannot reach ${BIN}; the read-only SQLite case is not run`)

describe('a database that does not accept writes is refused (exit 2), never served as ready', () => {
  it.runIf(unprivilegedReachable)('SQLite: a read-only database file', async () => {
    const dir = fresh()
    const db = join(dir, 'read-only.db')
    expect((await run(['migrate', '--db', `sqlite:${db}`], dir)).code).toBe(0)
    const secrets = join(dir, 'secrets.json')
    writeFileSync(secrets, await secretsJson(), { mode: 0o644 })
    chmodSync(db, 0o444)
    chmodSync(dir, 0o755)
    const before = readdirSync(dir).sort()
    const r = await runUnprivileged([...serveArgs, '--db', `sqlite:${db}`, '--secrets-file', secrets], dir, cleanEnv())
    expect(r.stderr).toContain(`the database ${db} does not accept writes`)
    expect(r.code).toBe(2)
    expect(readdirSync(dir).sort()).toEqual(before)
  }, 30_000)
})

await describeWithPostgres('PostgreSQL: a database that does not accept writes', () => {
  let pg: PostgresSchema
  beforeAll(async () => {
    pg = await withPostgresSchema()
  })
  afterEach(async () => undefined)
  afterAll(async () => pg?.drop())

  it('a read-only connection (default_transaction_read_only) is refused with exit 2; the URL is not shown', async () => {
    const dir = fresh()
    expect((await run(['migrate', '--db', pg.url], dir)).code).toBe(0)
    const u = new URL(pg.url)
    const options = u.searchParams.get('options') ?? ''
    u.searchParams.set('options', `${options} -c default_transaction_read_only=on`)
    const r = await run([...serveArgs, '--db', u.toString(), '--no-demo'], dir, cleanEnv({ CONSUMER_AUTH_SECRETS: await secretsJson() }))
    expect(r.stderr).toMatch(/does not accept writes \(25006/)
    expect(r.stderr).not.toContain('postgres://')
    expect(r.code).toBe(2)
  }, 30_000)
})
