#!/usr/bin/env node
// A bounded soak test: the built service (`node bin/consumer-auth.js serve`) as a child process under sustained mixed
// load for a set time, then the books are checked. Not part of `npm test` (it needs `npm run build` first).
//
//   node scripts/soak.mjs                          60 s on SQLite (a temporary directory)
//   node scripts/soak.mjs --seconds 300 --connections 32
//   node scripts/soak.mjs --db postgres://postgres@127.0.0.1:5432/test      in a fresh schema, dropped afterwards
//   options: --max-requests N (default 5000 per second of --seconds), --warmup S (default 10 % of the time, >= 3 s),
//            --rss-tolerance 0.2, --keep (keep the SQLite directory / PostgreSQL schema), --only kind,kind (a subset)
//
// The load mixes every outcome, each request kind with the statuses it may get:
//   successes in every credential mode: AuthenticationCode with key and keyless, IdentifierPassCode, IdentityJwt,
//   and the session route with an issued token (200); validation errors (400); unknown keys, wrong codes, invalid
//   identity JWTs (401); wrong pass codes on identifiers that lock out after 3 failures (401 then 429); a unit the
//   user lacks (403); unknown routes (404); wrong methods (405); non-JSON bodies (415); bodies over 16 KiB (413).
// Afterwards, with the service stopped (SIGTERM: a graceful stop), the store is opened (dist/adapters/store/sql/open-store.js)
// and the run passes when:
//   - no request got a status outside its kind's set, none failed at the transport, none timed out;
//   - tokens answered 200 == 'issued' audit records == consumer_auth_tokens_issued_total at /metrics
//     (and lock-outs counted by /metrics == 'locked_out' audit records);
//   - the service's RSS at the end (median of the last window) is at most --rss-tolerance above its RSS right after
//     the warm-up (median of the first window): a leak grows it; the swings of scrypt's 32 MiB buffers do not count.
// Exit code 0 when it passes, 1 when not, 2 on a usage error.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { BIN, consumerAuth as cli, KEY, ownSchema, ROOT as root, rssMiB } from './support.mjs'

let opts
try {
  opts = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      db: { type: 'string' },
      connections: { type: 'string', default: '32' },
      'max-requests': { type: 'string' },
      warmup: { type: 'string' },
      'rss-tolerance': { type: 'string', default: '0.2' },
      keep: { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  }).values
} catch (e) {
  console.error(`soak: ${e.message}`)
  process.exit(2)
}
const seconds = Number(opts.seconds)
const connections = Number(opts.connections)
const maxRequests = Number(opts['max-requests'] ?? seconds * 5000)
const warmupSeconds = Number(opts.warmup ?? Math.max(3, Math.round(seconds / 10)))
const rssTolerance = Number(opts['rss-tolerance'])
if (![seconds, connections, maxRequests, warmupSeconds, rssTolerance].every((n) => Number.isFinite(n) && n > 0) || warmupSeconds >= seconds) {
  console.error('soak: --seconds, --connections, --max-requests, --warmup (< --seconds) and --rss-tolerance must be positive numbers')
  process.exit(2)
}
if (opts.db !== undefined && !/^postgres(ql)?:\/\//.test(opts.db)) {
  console.error('soak: --db takes a postgres:// URL (the default is SQLite in a temporary directory)')
  process.exit(2)
}

const BASE = '/crmapi/rest/v2'
const TOKEN = `${BASE}/authentication/consumer_application_key/token`
const SESSION = `${BASE}/authentication/consumer_application_key/session`
const CODE = 'p_kestora1!'
const CII = '2695FED3FCFD4084AB39F44B18889123'
const ARI = '261BF2B79198401D89A79C545F16CBEC'
const ISSUER = 'https://id.soak.example'
const LOCK_IDENTIFIERS = 40
/** Identifiers that log in successfully; at most one request each in flight (see `ok_passcode`). */
const OK_IDENTIFIERS = 8
const IDENTIFIER_THRESHOLD = 3
const UNKNOWN_KEYS = Array.from({ length: 500 }, () => randomBytes(16).toString('hex').toUpperCase())
const basic = (key) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)]

// ------------------------------------------------------------------------------------------------ setup

const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-soak-'))
let schema
let dbUrl
if (opts.db) {
  schema = await ownSchema(opts.db, `ca_soak_${randomBytes(5).toString('hex')}`)
  dbUrl = schema.url
} else {
  dbUrl = `sqlite:${join(dir, 'soak.db')}`
}
const database = dbUrl.startsWith('sqlite:') ? { engine: 'sqlite', path: dbUrl.slice('sqlite:'.length), url: dbUrl } : { engine: 'postgres', url: dbUrl }

let child
const cleanup = async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  if (!opts.keep) {
    await schema?.drop()
    rmSync(dir, { recursive: true, force: true })
  } else {
    console.log(`kept: ${dir}${schema ? `, ${schema.url}` : ''}`)
  }
}
process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)))


let failed = false
try {
  const { generateSecrets } = await import(join(root, 'dist/adapters/crypto/generate-secrets.js'))
  const { openSqlStore } = await import(join(root, 'dist/adapters/store/sql/open-store.js'))
  const secretsFile = join(dir, 'secrets.json')
  writeFileSync(secretsFile, JSON.stringify(await generateSecrets()), { mode: 0o600 })

  const idp = await generateKeyPair('RS256')
  const jwk = { ...(await exportJWK(idp.publicKey)), kid: 'soak-1', alg: 'RS256', use: 'sig' }
  const doc = {
    organisations: [{ id: 'ps_dev', name: 'PS Dev', consumer_user: 'maytemplate' }],
    units: [{ organisation: 'ps_dev', id: '1', name: 'Head office' }, { organisation: 'ps_dev', id: '2', name: 'Branch' }],
    users: [{ organisation: 'ps_dev', username: 'maytemplate', default_unit: '1', units: ['1'] }],
    web_api_keys: [{ organisation: 'ps_dev', user: 'maytemplate', key: KEY, classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE' }],
    consumers: [{ organisation: 'ps_dev', contact_information_id: CII, accounts_receivable_id: ARI }],
    access_tokens: [
      { organisation: 'ps_dev', accounts_receivable_id: ARI, authentication_code: CODE, state: 'EFFECTIVE' },
      ...Array.from({ length: OK_IDENTIFIERS }, (_, i) => ({ organisation: 'ps_dev', accounts_receivable_id: ARI, identifier: `ok-${i}`, pass_code: `4711-${i}`, state: 'EFFECTIVE' })),
      ...Array.from({ length: LOCK_IDENTIFIERS }, (_, i) => ({ organisation: 'ps_dev', accounts_receivable_id: ARI, identifier: `lock-${i}`, pass_code: `pc-${i}`, state: 'EFFECTIVE' })),
    ],
    identity_providers: [{ issuer: ISSUER, audience: 'crm', jwks: { keys: [jwk] } }],
    identity_links: [{ issuer: ISSUER, subject: 'u-42', organisation: 'ps_dev', accounts_receivable_id: ARI }],
  }
  const importFile = join(dir, 'import.json')
  writeFileSync(importFile, JSON.stringify(doc))
  await cli(['import', importFile, '--db', dbUrl], { SECRETS_FILE: secretsFile, NODE_ENV: 'development' })

  const now = Math.floor(Date.now() / 1000)
  const jwtFor = (sub, extra = {}) =>
    new SignJWT(extra).setProtectedHeader({ alg: 'RS256', kid: 'soak-1' }).setIssuer(ISSUER).setAudience('crm').setSubject(sub)
      .setIssuedAt(now).setExpirationTime(now + 86_400).sign(idp.privateKey)
  const goodJwts = await Promise.all([1, 2, 3].map((n) => jwtFor('u-42', { n })))
  const badJwts = [await jwtFor('u-43'), `${goodJwts[0].split('.').slice(0, 2).join('.')}.AAAA`, 'a.b.c']

  // ---------------------------------------------------------------------------------------------- the service
  const port = 39_700 + Math.floor(Math.random() * 800)
  const logFile = join(dir, 'service.log')
  const logFd = openSync(logFile, 'a')
  child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', SECRETS_FILE: secretsFile, DATABASE_URL: dbUrl,
      DEMO_SEED: 'false', LOG_LEVEL: 'warn',
      LOCKOUT_IDENTIFIER_THRESHOLD: String(IDENTIFIER_THRESHOLD), LOCKOUT_KEY_THRESHOLD: '1000000', LOCKOUT_ADDRESS_THRESHOLD: '1000000',
    },
    stdio: ['ignore', logFd, logFd],
  })
  closeSync(logFd)
  const serviceLog = () => readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n')
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the service exited at start: ${serviceLog()}`)
    if (i > 300) throw new Error(`the service did not start within 30 s: ${serviceLog()}`)
    const up = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false)
    if (up) break
    await new Promise((r) => setTimeout(r, 100))
  }
  const bootRss = rssMiB(child.pid)

  // ---------------------------------------------------------------------------------------------- the load
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const json = { 'content-type': 'application/json' }
  let lastToken
  const busy = new Set()
  const kinds = {
    ok_code_key: { weight: 22, expect: [200], make: () => ({ headers: { ...json, authorization: basic(KEY) }, body: { access_token_identifier: { authentication_code: CODE }, unit: '1' } }) },
    ok_code_keyless: { weight: 10, expect: [200], make: () => ({ headers: json, body: { access_token_identifier: { authentication_code: CODE } } }) },
    // The identifier's attempts are counted before its pass code is checked (so a burst of guesses cannot exceed the
    // threshold), hence more concurrent logins of ONE identifier than its threshold are refused 429 even when right:
    // each ok-i has at most one request in flight here, so that this kind expects 200 only. (When two are in flight
    // already, a code login is sent instead, and counted as one.)
    ok_passcode: {
      weight: 1,
      expect: [200],
      make: () => {
        const free = Array.from({ length: OK_IDENTIFIERS }, (_, i) => i).filter((i) => !busy.has(i))
        // At most 2 in flight in all: each takes a pool thread for ~90 ms of scrypt, and the cheap requests share the CPU.
        if (busy.size >= 2) return { as: 'ok_code_key', ...kinds.ok_code_key.make() }
        const i = pick(free)
        busy.add(i)
        return { headers: { ...json, authorization: basic(KEY) }, body: { access_token_identifier: { identifier: `ok-${i}`, pass_code: `4711-${i}` } }, release: () => busy.delete(i) }
      },
    },
    ok_jwt: { weight: 8, expect: [200], make: () => ({ headers: json, body: { jwt: pick(goodJwts), organisation: 'ps_dev' } }) },
    ok_session: {
      weight: 4,
      expect: [200],
      make: () => (lastToken ? { method: 'GET', path: `${SESSION}?token=${lastToken}` } : { as: 'ok_code_keyless', ...kinds.ok_code_keyless.make() }),
    },
    validation: {
      weight: 12,
      expect: [400],
      make: () =>
        pick([
          { headers: { ...json, authorization: basic(KEY) }, body: { unit: '1' } },
          { headers: { ...json, authorization: basic(KEY) }, body: { access_token_identifier: { authentication_code: CODE, identifier: 'maria' } } },
          { headers: { ...json, authorization: basic(KEY) }, body: { access_token_identifier: { authentication_code: CODE }, organization: 'ps_dev' } },
          { headers: { ...json, authorization: basic(KEY) }, body: { access_token_identifier: { authentication_code: '  ' } } },
          { headers: { ...json, authorization: basic(KEY) }, raw: '{"access_token_identifier":' },
          { headers: { ...json, authorization: basic(KEY) }, raw: '[1,2,3]' },
          { headers: { ...json, authorization: `Bearer ${KEY}` }, body: { access_token_identifier: { authentication_code: CODE } } },
          { headers: { ...json, authorization: `Basic ${Buffer.from(`${KEY}:pw`).toString('base64')}` }, body: { access_token_identifier: { authentication_code: CODE } } },
          { headers: json, body: { jwt: goodJwts[0] } },
          { headers: json, body: { access_token_identifier: { identifier: 'ok-0', pass_code: '4711-0' } } },
        ]),
    },
    unknown_key: { weight: 8, expect: [401], make: () => ({ headers: { ...json, authorization: basic(pick(UNKNOWN_KEYS)) }, body: { access_token_identifier: { authentication_code: CODE } } }) },
    wrong_code: { weight: 6, expect: [401], make: () => ({ headers: { ...json, authorization: basic(KEY) }, body: { access_token_identifier: { authentication_code: `wrong-${Math.floor(Math.random() * 1000)}` } } }) },
    wrong_code_keyless: { weight: 2, expect: [401], make: () => ({ headers: json, body: { access_token_identifier: { authentication_code: `wrong-${Math.floor(Math.random() * 1000)}` } } }) },
    bad_jwt: { weight: 3, expect: [401], make: () => ({ headers: json, body: { jwt: pick(badJwts), organisation: 'ps_dev' } }) },
    wrong_passcode: {
      weight: 3,
      expect: [401, 429],
      make: () => ({ headers: { ...json, authorization: basic(KEY) }, body: { access_token_identifier: { identifier: `lock-${Math.floor(Math.random() * LOCK_IDENTIFIERS)}`, pass_code: 'wrong' } } }),
    },
    invalid_unit: { weight: 3, expect: [403], make: () => ({ headers: { ...json, authorization: basic(KEY) }, body: { access_token_identifier: { authentication_code: CODE }, unit: '2' } }) },
    not_found: { weight: 4, expect: [404], make: () => ({ method: pick(['GET', 'POST']), path: pick(['/nope', `${BASE}/nope`, '/authentication/consumer_application_key/token']) }) },
    method_not_allowed: { weight: 4, expect: [405], make: () => ({ method: pick(['GET', 'PUT', 'DELETE']), path: TOKEN }) },
    unsupported_media: { weight: 4, expect: [415], make: () => ({ headers: { 'content-type': pick(['text/plain', 'application/x-www-form-urlencoded']), authorization: basic(KEY) }, raw: 'access_token_identifier=x' }) },
    too_large: { weight: 3, expect: [413], make: () => ({ headers: { ...json, authorization: basic(KEY) }, raw: JSON.stringify({ access_token_identifier: { authentication_code: CODE }, unit: 'x'.repeat(20_000) }) }) },
  }
  const only = opts.only?.split(',')
  for (const name of only ?? []) if (!(name in kinds)) throw new Error(`--only: no request kind ${name} (kinds: ${Object.keys(kinds).join(', ')})`)
  const table = Object.entries(kinds).filter(([name]) => !only || only.includes(name)).flatMap(([name, k]) => Array(k.weight).fill(name))
  const stats = Object.fromEntries(Object.keys(kinds).map((k) => [k, { count: 0, statuses: {}, unexpected: 0 }]))
  let sent = 0
  let tokensAnswered = 0
  const unexpectedSamples = []

  const send = (spec) =>
    new Promise((resolve) => {
      const payload = spec.raw ?? (spec.body === undefined ? undefined : JSON.stringify(spec.body))
      const headers = { ...(spec.headers ?? {}), ...(payload === undefined ? {} : { 'content-length': Buffer.byteLength(payload) }) }
      const req = request({ host: '127.0.0.1', port, agent, method: spec.method ?? 'POST', path: spec.path ?? TOKEN, headers }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', (e) => resolve({ status: `error:${e.code ?? e.message}` }))
      })
      req.setTimeout(15_000, () => req.destroy(new Error('timeout')))
      req.on('error', (e) => resolve({ status: e.message === 'timeout' ? 'timeout' : `error:${e.code ?? e.message}` }))
      req.end(payload)
    })

  const started = Date.now()
  const deadline = started + seconds * 1000
  const samples = []
  const sampler = setInterval(() => samples.push({ t: (Date.now() - started) / 1000, rss: rssMiB(child.pid) }), 500)
  const worker = async () => {
    while (Date.now() < deadline && sent < maxRequests) {
      sent++
      const picked = pick(table)
      const spec = kinds[picked].make()
      const kind = spec.as ?? picked
      const r = await send(spec)
      spec.release?.()
      const s = stats[kind]
      s.count++
      s.statuses[r.status] = (s.statuses[r.status] ?? 0) + 1
      if (r.status === 200 && r.text) {
        try {
          const token = JSON.parse(r.text)?.data?.token
          if (typeof token === 'string') {
            tokensAnswered++
            lastToken = token
          }
        } catch {
          // not JSON: the status check below reports it if it matters
        }
      }
      if (!kinds[kind].expect.includes(r.status)) {
        s.unexpected++
        if (unexpectedSamples.length < 10) unexpectedSamples.push(`${kind}: ${r.status} ${String(r.text ?? '').slice(0, 200)}`)
      }
      if (child.exitCode !== null || child.signalCode !== null) break
    }
  }
  await Promise.all(Array.from({ length: connections }, worker))
  clearInterval(sampler)
  const elapsed = (Date.now() - started) / 1000
  // RSS swings with the load's mix (each scrypt verification takes 32 MiB on a pool thread), so single samples are
  // noise: the medians of a window right after the warm-up and of the last window of the run are compared.
  const window = Math.max(3, (elapsed - warmupSeconds) * 0.15)
  const median = (xs) => {
    const v = [...xs].sort((x, y) => x - y)
    return v.length === 0 ? NaN : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
  }
  const warmRss = median(samples.filter((x) => x.t >= warmupSeconds && x.t < warmupSeconds + window).map((x) => x.rss))
  const endRss = median(samples.filter((x) => x.t >= elapsed - window).map((x) => x.rss))
  const lastRss = rssMiB(child.pid)
  agent.destroy()

  // ---------------------------------------------------------------------------------------------- the books
  const metricsText = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text())
  const sum = (name) => [...metricsText.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0)
  const meteredTokens = sum('consumer_auth_tokens_issued_total')
  const meteredLockouts = sum('consumer_auth_lockouts_total')
  const stopped = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  child.kill('SIGTERM')
  const exit = await Promise.race([stopped, new Promise((r) => setTimeout(() => r(undefined), 30_000))])
  const store = await openSqlStore(database, { migrate: false })
  let audit
  try {
    audit = { issued: 0, failed: 0, locked_out: 0 }
    for (const e of await store.listAuditEvents()) audit[e.event.type] = (audit[e.event.type] ?? 0) + 1
  } finally {
    await store.close()
  }

  // ---------------------------------------------------------------------------------------------- the summary
  const unexpected = Object.values(stats).reduce((n, s) => n + s.unexpected, 0)
  const rssRatio = endRss / warmRss
  const checks = [
    ['every request got a status of its kind', unexpected === 0, `${unexpected} unexpected`],
    ['tokens answered == issued audit records == metrics', tokensAnswered === audit.issued && audit.issued === meteredTokens, `${tokensAnswered} / ${audit.issued} / ${meteredTokens}`],
    ['lock-outs in metrics == locked_out audit records', meteredLockouts === audit.locked_out, `${meteredLockouts} / ${audit.locked_out}`],
    [`RSS at the end at most ${Math.round(rssTolerance * 100)} % above RSS after the warm-up (medians of ${window.toFixed(0)} s windows)`, rssRatio <= 1 + rssTolerance, `ratio ${rssRatio.toFixed(3)}`],
    ['graceful stop on SIGTERM (exit 0)', exit?.code === 0, exit ? `code ${exit.code} signal ${exit.signal}` : 'did not exit within 30 s'],
  ]
  const fmt = (n, d = 1) => n.toFixed(d)
  console.log(`# consumer-auth soak  ${new Date().toISOString()}  node ${process.version}  ${database.engine}  ${connections} connections`)
  console.log(`duration ${fmt(elapsed)} s (asked ${seconds} s, cap ${maxRequests} requests); requests ${sent} (${fmt(sent / elapsed, 0)}/s)`)
  console.log('\nkind                  count  expected   statuses')
  for (const [name, s] of Object.entries(stats)) {
    console.log(`${name.padEnd(20)} ${String(s.count).padStart(6)}  ${kinds[name].expect.join('/').padEnd(9)}  ${JSON.stringify(s.statuses)}${s.unexpected ? `   UNEXPECTED ${s.unexpected}` : ''}`)
  }
  console.log(`\ntokens: answered ${tokensAnswered}, 'issued' audit records ${audit.issued}, consumer_auth_tokens_issued_total ${meteredTokens}`)
  console.log(`audit: ${JSON.stringify(audit)}; consumer_auth_lockouts_total ${meteredLockouts}`)
  const rssValues = samples.map((s) => s.rss)
  console.log(
    `RSS MiB: boot ${fmt(bootRss)}; start (median ${fmt(warmupSeconds, 0)}-${fmt(warmupSeconds + window, 0)} s) ${fmt(warmRss)}; ` +
      `end (median of the last ${fmt(window, 0)} s) ${fmt(endRss)}; end/start ${fmt(rssRatio, 3)}; min ${fmt(Math.min(...rssValues))}, max ${fmt(Math.max(...rssValues))}, last sample ${fmt(lastRss)}`,
  )
  if (unexpectedSamples.length) console.log(`\nunexpected (first ${unexpectedSamples.length}):\n  ${unexpectedSamples.join('\n  ')}`)
  console.log('')
  for (const [what, ok, detail] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}  (${detail})`)
  failed = checks.some(([, ok]) => !ok)
  if (failed) console.log(`\nlast lines of the service log:\n${serviceLog()}`)
} catch (e) {
  console.error(`soak: ${e.stack ?? e}`)
  failed = true
} finally {
  await cleanup()
}
process.exit(failed ? 1 : 0)
