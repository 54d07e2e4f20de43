#!/usr/bin/env node
// `npm run profile`: where the service's CPU goes under load. Starts the built service (as `npm run bench` does: a
// fresh SQLite file or PostgreSQL schema seeded with the documented example, lock-out thresholds above the load) under
// `node --cpu-prof`, drives one scenario with autocannon (50 connections, 2 s of warm-up, then the profiled window),
// stops it, and prints the event loop's self time by function, by file or package, and by part of the service.
//
//   npm run build && npm run profile                  AuthenticationCode on SQLite, 10 s
//   npm run profile -- --scenario fail --seconds 20  the unknown-key failure
//   npm run profile -- --db postgres                 on a schema of its own in DATABASE_URL (dropped afterwards)
//   npm run profile -- --keep                        keep the .cpuprofile (open it in Chrome DevTools) and say where
//   npm run profile -- --scenario session            GET .../session with a Bearer token of the service
//   npm run profile -- --scenario verify             a Koa app with createSessionVerifier's middleware (HS256, the
//                                                    service's secrets file; scripts/bench/verify-koa.mjs), not the service
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { BIN, consumerAuth, documentedExample, freePort, KEY, ownSchema, ROOT as root, ROUTE, serviceEnv } from './support.mjs'

const { values: opts } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'code' },
    seconds: { type: 'string', default: '10' },
    db: { type: 'string', default: 'sqlite' },
    top: { type: 'string', default: '25' },
    keep: { type: 'boolean', default: false },
  },
})
const SESSION_PATH = '/crmapi/rest/v2/authentication/consumer_application_key/session'
const scenarios = {
  code: { key: KEY, body: { access_token_identifier: { authentication_code: 'p_kestora1!' }, unit: '1' } },
  fail: { key: '00000000000000000000000000000000', body: { access_token_identifier: { authentication_code: 'p_kestora1!' } } },
  session: { get: SESSION_PATH },
  verify: { get: '/accounts_receivable/show', app: true },
}
const scenario = scenarios[opts.scenario]
if (!scenario) throw new Error(`--scenario: one of ${Object.keys(scenarios).join(', ')}`)

const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-profile-'))
let schema
const databaseUrl = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : 'postgres://postgres@127.0.0.1:5432/test'
try {
  const { generateSecrets } = await import(join(root, 'dist/adapters/crypto/generate-secrets.js'))
  writeFileSync(join(dir, 'secrets.json'), JSON.stringify(await generateSecrets()), { mode: 0o600 })
  let db = `sqlite:${join(dir, 'profile.db')}`
  if (opts.db === 'postgres') {
    schema = await ownSchema(databaseUrl, `ca_profile_${process.pid}`)
    db = schema.url
  }
  const env = serviceEnv(join(dir, 'secrets.json'), db)
  writeFileSync(join(dir, 'import.json'), JSON.stringify(documentedExample))
  await consumerAuth(['import', join(dir, 'import.json'), '--db', db], env)

  /** Starts a server child, profiled or not, and resolves with its port and exit once it answers. */
  const start = async (args, childEnv, profiled) => {
    const port = await freePort()
    const child = spawn(process.execPath, [...(profiled ? ['--cpu-prof', '--cpu-prof-dir', dir] : []), ...args(port)], { env: { ...childEnv, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] })
    const exited = new Promise((resolve) => child.on('exit', resolve))
    for (let i = 0; ; i++) {
      try {
        // The service answers 503 until it is ready (its port is bound first); the Koa app has no such route (404).
        if ((await fetch(`http://127.0.0.1:${port}/health/live`)).status !== 503) return { port, child, exited }
      } catch {
        // not listening yet
      }
      if (i > 100 || child.exitCode !== null) throw new Error(`${args(port).join(' ')} did not start`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const service = await start((port) => [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], env, !scenario.app)
  let token
  if (scenario.get) {
    const issued = await fetch(`http://127.0.0.1:${service.port}${ROUTE}`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}` },
      body: JSON.stringify(scenarios.code.body),
    })
    token = (await issued.json()).data.token
  }
  const app = scenario.app
    ? await start(() => [join(root, 'scripts/bench/verify-koa.mjs')], { ...env, MODE: 'library', ALG: 'HS256', SECRETS_FILE: join(dir, 'secrets.json') }, true)
    : undefined
  const profiled = app ?? service
  const request = scenario.get
    ? { method: 'GET', path: scenario.get, headers: { authorization: `Bearer ${token}` } }
    : {
        method: 'POST', path: ROUTE, body: JSON.stringify(scenario.body),
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${scenario.key}:`).toString('base64')}` },
      }
  const load = (seconds) =>
    new Promise((resolve, reject) =>
      autocannon({ url: `http://127.0.0.1:${profiled.port}`, connections: 50, duration: seconds, requests: [request] }, (e, r) => (e ? reject(e) : resolve(r))))
  await load(2)
  const r = await load(Number(opts.seconds))
  for (const s of [app, service].filter(Boolean)) s.child.kill('SIGTERM')
  await Promise.all([app, service].filter(Boolean).map((s) => s.exited))
  console.log(`# ${opts.scenario} on ${opts.db}: ${Math.round(r.requests.average)} req/s, p99 ${r.latency.p99} ms, ${r['2xx']} 2xx, ${r.non2xx} other (the profiler slows the service down)`)

  // The main thread's profile (worker threads, such as the WAL checkpointer, write their own files).
  const file = readdirSync(dir).filter((n) => n.endsWith('.cpuprofile')).sort()[0]
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'))
  const selfTime = new Map()
  for (let i = 0; i < profile.samples.length; i++) selfTime.set(profile.samples[i], (selfTime.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0))
  const where = (url) => url.replace(/^file:\/\//, '').replace(`${root}/`, '').replace(/^.*node_modules\//, 'node_modules/')
  const pkg = (url) => {
    const w = where(url)
    const m = /^node_modules\/((@[^/]+\/)?[^/]+)/.exec(w)
    return m ? m[1] : w || '(native)'
  }
  const part = (frame) => {
    const u = frame.url
    if (frame.functionName === '(garbage collector)') return 'GC'
    if (u.includes('/dist/core/')) return 'core'
    if (u.includes('/dist/adapters/http/') || u.includes('/dist/adapters/embed/')) return 'HTTP adapters'
    if (u.includes('/dist/adapters/store/sql/')) return 'SQL store (with native SQLite)'
    if (u.includes('/dist/adapters/crypto/') || u.startsWith('node:internal/crypto')) return 'crypto (HMAC, signing, ids)'
    if (u.includes('/dist/')) return 'other service code'
    if (u.includes('node_modules/')) return `library: ${pkg(u)}`
    if (/^node:(internal\/streams|_http|net|events|internal\/stream_base)/.test(u)) return 'Node HTTP, streams, events'
    if (u.startsWith('node:')) return 'Node, other'
    return `native: ${frame.functionName || '(anonymous)'}`
  }
  const byFunction = new Map()
  const byFile = new Map()
  const byPart = new Map()
  let busy = 0
  for (const node of profile.nodes) {
    const t = selfTime.get(node.id) ?? 0
    const f = node.callFrame
    // Waiting for I/O is not work.
    if (f.functionName === '(idle)') continue
    busy += t
    const add = (m, k) => m.set(k, (m.get(k) ?? 0) + t)
    add(byFunction, `${f.functionName || '(anonymous)'}  ${where(f.url) || '(native)'}:${f.lineNumber + 1}`)
    add(byFile, pkg(f.url))
    add(byPart, part(f))
  }
  const top = Number(opts.top)
  const print = (title, m) => {
    console.log(`\n## ${title} (share of the busy time, ${(busy / 1e6).toFixed(1)} s)`)
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((v / busy) * 100).toFixed(1).padStart(5)} %  ${k}`)
  }
  print('by part of the service', byPart)
  print('by file or package', byFile)
  print('by function', byFunction)
  if (opts.keep) console.log(`\nprofile kept: ${join(dir, file)}`)
} finally {
  await schema?.drop()
  if (!opts.keep) rmSync(dir, { recursive: true, force: true })
}
