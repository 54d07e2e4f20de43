#!/usr/bin/env node
// How long `GET .../authentication/consumer_application_key/session` takes while pass-code attempts are in flight:
// the built service on SQLite, `--attempts` wrong pass codes (distinct identifiers, one key) sent at once, and a few
// clients checking a session token from the moment of the burst until every attempt is answered (at least 2 s).
// With `--mode sustained` each attempt is sent again as soon as it is answered, for `--seconds`. Prints the session
// check's p50/p99/max at rest and during the burst, and how the pass-code attempts were answered.
//
//   npm run build && node scripts/measure-session-under-scrypt.mjs                      300 attempts sent at once
//   node scripts/measure-session-under-scrypt.mjs --mode sustained --seconds 5 --env PASSCODE_QUEUE_LIMIT=100000
//   node scripts/measure-session-under-scrypt.mjs --root /path/to/another/build         another build of the project
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { documentedExample, freePort, KEY, ROOT, ROUTE, serviceEnv } from './support.mjs'

const { values: opts } = parseArgs({
  options: {
    attempts: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '5' },
    mode: { type: 'string', default: 'burst' },
    checkers: { type: 'string', default: '4' },
    root: { type: 'string', default: ROOT },
    env: { type: 'string', multiple: true, default: [] },
  },
})
const root = opts.root
const bin = join(root, 'bin/consumer-auth.js')
const extraEnv = Object.fromEntries(opts.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
const SESSION_ROUTE = ROUTE.replace(/token$/, 'session')
const AUTH = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`

const run = (args, env) =>
  new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (out += d))
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args[0]} exited ${code}: ${out}`))))
  })

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
}
const summary = (xs) => `n=${xs.length} p50 ${percentile(xs, 50).toFixed(1)} ms  p99 ${percentile(xs, 99).toFixed(1)} ms  max ${Math.max(...xs).toFixed(1)} ms`

const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-scrypt-'))
let child
try {
  const secretsFile = join(dir, 'secrets.json')
  const { generateSecrets } = await import(join(root, 'dist/adapters/crypto/generate-secrets.js'))
  writeFileSync(secretsFile, JSON.stringify(await generateSecrets()), { mode: 0o600 })
  const db = `sqlite:${join(dir, 'measure.db')}`
  const importFile = join(dir, 'import.json')
  writeFileSync(importFile, JSON.stringify(documentedExample))
  const env = { ...serviceEnv(secretsFile, db), LOG_LEVEL: 'warn', ...extraEnv }
  await run(['import', importFile, '--db', db], env)
  const port = await freePort()
  child = spawn(process.execPath, [bin, 'serve', '--port', String(port), '--host', '127.0.0.1'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      await fetch(`${base}/health/live`)
      break
    } catch {
      if (i > 200) throw new Error('the service did not start')
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const post = (body) => fetch(`${base}${ROUTE}`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const issued = await (await post({ access_token_identifier: { authentication_code: 'p_kestora1!' }, unit: '1' })).json()
  const token = issued.data?.token
  if (!token) throw new Error(`no token: ${JSON.stringify(issued)}`)

  /** `checkers` clients checking the session until `until` (at least once), 10 ms apart; answers their latencies. */
  const check = async (until) => {
    const times = []
    await Promise.all(Array.from({ length: Number(opts.checkers) }, async () => {
      // At least one check per call, so that a caller looping on it always waits for I/O.
      do {
        const t0 = performance.now()
        const r = await fetch(`${base}${SESSION_ROUTE}`, { headers: { authorization: `Bearer ${token}` } })
        await r.arrayBuffer()
        if (r.status !== 200) throw new Error(`the session check answered ${r.status}`)
        times.push(performance.now() - t0)
        await new Promise((res) => setTimeout(res, 10))
      } while (Date.now() < until)
    }))
    return times
  }

  const rest = await check(Date.now() + 1000)
  const sustained = opts.mode === 'sustained'
  const until = Date.now() + Number(opts.seconds) * 1000
  const statuses = {}
  let n = 0
  let burstEnd = 0
  const attempt = async () => {
    do {
      const r = await post({ access_token_identifier: { identifier: `nobody-${n++}`, pass_code: '0000' } })
      await r.arrayBuffer()
      const k = `${r.status}${r.headers.get('retry-after') ? ` (Retry-After ${r.headers.get('retry-after')})` : ''}`
      statuses[k] = (statuses[k] ?? 0) + 1
    } while (sustained && Date.now() < until)
  }
  const started = Date.now()
  const attempts = Promise.all(Array.from({ length: Number(opts.attempts) }, attempt)).then(() => (burstEnd = Date.now()))
  // Checked from the burst on until every attempt is answered, and for at least 2 s.
  const during = []
  while (burstEnd === 0 || Date.now() - started < 2000) during.push(...(await check(Math.min(Date.now() + 250, sustained ? until : Infinity))))
  await attempts
  console.log(`# session check while ${opts.attempts} pass-code attempts are in flight (${sustained ? `sustained ${opts.seconds} s` : 'sent at once'}, ${root === ROOT ? 'this build' : root}${opts.env.length ? `, ${opts.env.join(' ')}` : ''})`)
  console.log(`every attempt answered after ${((burstEnd - started) / 1000).toFixed(1)} s`)
  console.log(`at rest:     ${summary(rest)}`)
  console.log(`during:      ${summary(during)}`)
  console.log(`pass-code attempts answered: ${JSON.stringify(statuses)}`)
} finally {
  child?.kill('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
}
