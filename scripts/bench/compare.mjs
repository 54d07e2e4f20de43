#!/usr/bin/env node
// Builds of the service against each other, in the same rounds: `node scripts/bench/compare.mjs ROOT...` starts the
// service of each ROOT (a checkout or copy with its dist/ built; `.` for this one) on a SQLite file of its own seeded
// with the documented example, `floor` starts F (floor-koa.mjs) and `floor+` F+ (the same with what the specification
// asks besides, floor-koa.mjs FLOOR_CONFORMING); then each round measures each of them in turn
// under the same load and prints req/s, server CPU per request and p99, and the medians with req/s over the first's.
// A before/after of one change is two roots measured in the same rounds, which `npm run bench -- --root` is not.
//
//   node scripts/bench/compare.mjs --scenario fail --rounds 6 --duration 3 ../before . floor
//   node scripts/bench/compare.mjs --scenario code ../before .
//   node scripts/bench/compare.mjs --scenario session ../before .   GET .../session with a token each service issued
//   node scripts/bench/compare.mjs --db postgres --scenario code ../before . floor   each on a PostgreSQL schema of its
//                                  own in DATABASE_URL (F: F_pg, its audit rows there), dropped afterwards
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { fmt, load, measure, median, startChild, stopChild } from './harness.mjs'
import { consumerAuth, documentedExample, freePort, KEY, ownSchema, ROOT, ROUTE, serviceEnv } from '../support.mjs'

const { values: opts, positionals: roots } = parseArgs({
  allowPositionals: true,
  options: {
    scenario: { type: 'string', default: 'fail' },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '4' },
    connections: { type: 'string', default: '50' },
    db: { type: 'string', default: 'sqlite' },
  },
})
if (opts.db !== 'sqlite' && opts.db !== 'postgres') throw new Error('--db: sqlite or postgres')
if (roots.length === 0) throw new Error('name the builds to compare: directories with a built dist/, or floor')
const connections = Number(opts.connections)
const SESSION_ROUTE = ROUTE.replace(/token$/, 'session')
const session = opts.scenario === 'session'
const key = opts.scenario === 'fail' ? '00000000000000000000000000000000' : KEY
const body = opts.scenario === 'code' ? { access_token_identifier: { authentication_code: 'p_kestora1!' }, unit: '1' } : { access_token_identifier: { authentication_code: 'p_kestora1!' } }
const scenario = {
  path: ROUTE, headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` },
  body: JSON.stringify(body), expect: opts.scenario === 'fail' ? '4xx' : '2xx',
}
/** The scenario a server is measured with: the session route takes a token that server issued. */
const scenarioFor = async (port) => {
  if (!session) return scenario
  const issued = await fetch(`http://127.0.0.1:${port}${ROUTE}`, { method: 'POST', headers: scenario.headers, body: scenario.body })
  const { data } = await issued.json()
  return { method: 'GET', path: SESSION_ROUTE, headers: { authorization: `Bearer ${data.token}` }, expect: '2xx' }
}

const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-compare-'))
const servers = []
const schemas = []
const databaseUrl = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : 'postgres://postgres@127.0.0.1:5432/test'
/** The i-th server's PostgreSQL schema (dropped at the end); its URL puts a client in it. */
const schemaOf = async (i) => {
  const schema = await ownSchema(databaseUrl, `ca_compare_${process.pid}_${i}`)
  schemas.push(schema)
  return schema.url
}
try {
  const { generateSecrets } = await import(join(ROOT, 'dist/adapters/crypto/generate-secrets.js'))
  const secrets = join(dir, 'secrets.json')
  writeFileSync(secrets, JSON.stringify(await generateSecrets()), { mode: 0o600 })
  writeFileSync(join(dir, 'import.json'), JSON.stringify(documentedExample))
  for (const [i, root] of roots.entries()) {
    const port = await freePort()
    if (root === 'floor' || root === 'floor+') {
      if (session) throw new Error('F has no session route')
      const floorEnv = { PORT: String(port), FLOOR_CONFORMING: root === 'floor+' ? '1' : '0', ...(opts.db === 'postgres' ? { FLOOR_DATABASE_URL: await schemaOf(i) } : {}) }
      servers.push({ name: root === 'floor' ? 'F (floor)' : 'F+ (conforming floor)', port, scenario, child: await startChild([join(ROOT, 'scripts/bench/floor-koa.mjs')], floorEnv, port) })
      continue
    }
    const db = opts.db === 'postgres' ? await schemaOf(i) : `sqlite:${join(dir, `service-${i}.db`)}`
    const env = serviceEnv(secrets, db)
    await consumerAuth(['import', join(dir, 'import.json'), '--db', db], env)
    const child = await startChild([join(resolve(root), 'bin/consumer-auth.js'), 'serve', '--port', String(port), '--host', '127.0.0.1'], env, port)
    servers.push({ name: root, port, child, scenario: await scenarioFor(port) })
  }
  for (const s of servers) await load(s.port, s.scenario, 3, connections)
  const results = servers.map(() => ({ rps: [], cpu: [], p99: [] }))
  for (let r = 1; r <= Number(opts.rounds); r++) {
    const cells = []
    for (const [i, s] of servers.entries()) {
      const m = await measure(s, s.scenario, Number(opts.duration), connections)
      if (m.unexpected > 0) console.log(`${s.name}: ${m.unexpected} answers not ${s.scenario.expect}: ${JSON.stringify(m.statusCounts)}`)
      results[i].rps.push(m.rps)
      results[i].cpu.push(m.cpuUs)
      results[i].p99.push(m.p99)
      cells.push(`${fmt(m.rps).padStart(6)} req/s ${fmt(m.cpuUs).padStart(4)} us p99 ${fmt(m.p99).padStart(3)}`)
    }
    console.log(`round ${r}: ${cells.join(' | ')}`)
  }
  console.log(`\n## ${opts.scenario} on ${opts.db}: medians (${connections} connections, ${opts.rounds} rounds of ${opts.duration} s)`)
  for (const [i, s] of servers.entries()) {
    const over = median(results[i].rps.map((x, k) => x / results[0].rps[k]))
    console.log(`${s.name.padEnd(32)} ${fmt(median(results[i].rps)).padStart(6)} req/s  cpu/req ${fmt(median(results[i].cpu), 1).padStart(6)} us  p99 ${fmt(median(results[i].p99)).padStart(3)} ms  req/s over the first ${fmt(over, 3)}`)
  }
} finally {
  await Promise.all(servers.map((s) => stopChild(s.child)))
  await Promise.all(schemas.map((s) => s.drop()))
  rmSync(dir, { recursive: true, force: true })
}
