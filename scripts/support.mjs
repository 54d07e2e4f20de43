// What the load scripts (`npm run bench`, `npm run profile`, scripts/soak.mjs) share: the route, the documented example
// they seed, the service's environment under load, running the built CLI, a schema of their own on PostgreSQL, a free
// port and a process's RSS.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const BIN = join(ROOT, 'bin/consumer-auth.js')

export const KEY = 'EE73C0AE64524371B5DDEFF5F7BB2192'
export const ROUTE = '/crmapi/rest/v2/authentication/consumer_application_key/token'

/** The documented example (docs/behaviour.md): one organisation, its user and key, one consumer with its authentication code. */
export const documentedExample = {
  organisations: [{ id: 'ps_dev', name: 'PS Dev', consumer_user: 'maytemplate' }],
  units: [{ organisation: 'ps_dev', id: '1', name: 'Head office' }],
  users: [{ organisation: 'ps_dev', username: 'maytemplate', default_unit: '1', units: ['1'] }],
  web_api_keys: [{ organisation: 'ps_dev', user: 'maytemplate', key: KEY, classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE' }],
  consumers: [{ organisation: 'ps_dev', contact_information_id: '2695FED3FCFD4084AB39F44B18889123', accounts_receivable_id: '261BF2B79198401D89A79C545F16CBEC' }],
  access_tokens: [{ organisation: 'ps_dev', accounts_receivable_id: '261BF2B79198401D89A79C545F16CBEC', authentication_code: 'p_kestora1!', state: 'EFFECTIVE' }],
}

/**
 * The service's environment under load. Lock-out thresholds far above the load, so that the failure scenario measures
 * the unknown-key path itself (a locked-out key is answered earlier and cheaper) and the success scenarios never trip.
 */
export const serviceEnv = (secretsFile, databaseUrl) => ({
  ...process.env, SECRETS_FILE: secretsFile, NODE_ENV: 'development', DATABASE_URL: databaseUrl, LOG_LEVEL: 'info', DEMO_SEED: 'false',
  LOCKOUT_KEY_THRESHOLD: '1000000', LOCKOUT_ADDRESS_THRESHOLD: '1000000', LOCKOUT_IDENTIFIER_THRESHOLD: '1000000',
})

/** A port free right now (the kernel's choice), so that runs beside other services and tests do not collide. */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

/** Runs the built `consumer-auth` command; resolves with its output, rejects with it when it exits non-zero. */
export const consumerAuth = (args, env = {}) =>
  new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (out += d))
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`consumer-auth ${args[0]} exited ${code}: ${out}`))))
  })

/** One statement on its own connection (schemas are created and dropped outside the service's pool). */
const adminQuery = async (adminUrl, text) => {
  const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 })
  await c.connect()
  try {
    return await c.query(text)
  } finally {
    await c.end().catch(() => undefined)
  }
}

/**
 * Creates the schema `name` in the database of `adminUrl`; answers the URL that puts the service in it (search_path)
 * and `drop()`, which removes it with everything in it (and never throws: it runs while cleaning up).
 */
export const ownSchema = async (adminUrl, name) => {
  await adminQuery(adminUrl, `create schema ${name}`)
  const u = new URL(adminUrl)
  u.searchParams.set('options', `-c search_path=${name}`)
  return { url: u.toString(), drop: () => adminQuery(adminUrl, `drop schema if exists ${name} cascade`).then(() => undefined, () => undefined) }
}

/** Resident set size of a process, in MiB (Linux /proc). */
export const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
