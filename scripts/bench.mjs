#!/usr/bin/env node
// `npm run bench`: issuance over HTTP against a bare Koa baseline, in one run, on this machine.
//
// A is a bare Koa + @koa/router app answering the same route with a fixed envelope of the same size; B is the real
// service (full validation, store, audit, logging, the real middleware stack). Each scenario warms both up, then runs
// several timed rounds alternating A and B with the same autocannon load, and prints req/s, p50, p99 and server CPU
// per request for each, and B/A per round with the median. Machines here are shared and noisy: read the ratios.
// The AuthenticationCode and failure scenarios also run F (scripts/bench/floor-koa.mjs) in each round: the least work any
// implementation must do per request, on the same framework, so F/A bounds what B/A can reach on this machine; the
// PostgreSQL scenario runs F_pg, the same floor committing its audit row to PostgreSQL. B/F is printed beside them.
// They run F+ too (floor-koa.mjs FLOOR_CONFORMING): F with what the specification asks besides (validation, request
// id, metrics, the request line), so F+/F says how near F a conforming implementation can come, and B/F+ how near
// F+ the service is.
// The peer scenario runs P (scripts/bench/oidc-provider.mjs, node-oidc-provider, a dev dependency) in B's place: its
// client_credentials grant issuing HS256 JWT access tokens, alternating with A; the summary then also prints B/P, the
// AuthenticationCode req/s of B over P's, when both ran.
//
//   npm run bench                      all scenarios, 5 rounds of 5 s
//   npm run bench -- --quick           one short round each (a smoke run; no figures asserted)
//   npm run bench -- --only code,fail  some scenarios: code, passcode, jwt, fail, postgres, memory, peer, verify, verify-es256, scale
//   npm run bench -- --only verify,verify-es256   accepting session tokens (scripts/bench/verify.mjs): V/A, S/A, V/J,
//                                                 F/A, S/F
//   npm run bench -- --root ../other   measure the service and verifier built in another checkout (its dist/)
//   npm run bench -- --only peer       the peer comparison alone (node-oidc-provider client_credentials, JWT access token)
//   npm run bench -- --rounds 7 --duration 8 --connections 50
//   npm run bench -- --only passcode --passcode-connections 8 --passcode-queue 50   the pass-code scenario's
//                                      connections (default 8) and the service's pass-code queue (PASSCODE_QUEUE_LIMIT,
//                                      default --connections): the scenario measures scrypt verifications, not the 503s
//                                      a full queue sheds at once
//   npm run bench -- --only memory --memory-seconds 60 --memory-warmup 20
//   npm run bench -- --prefill 1000000 the databases of B start with that many issued sessions in their audit tables
//   npm run bench -- --prefill deployment --scale 0.1   ... with a deployment's data (scripts/bench/prefill.mjs), times 0.1
//   npm run bench -- --only scale --scale 0.01   code and fail on a deployment's data (L) against the small data (S),
//                                      SQLite and PostgreSQL, same rounds: L/S (scripts/bench/scale.mjs; --quick: 0.001)
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { cell, fmt, load as loadOn, measure as measureOn, median, startChild, stopChild } from './bench/harness.mjs'
import { prefillPostgres, prefillSqlite, sizesAt } from './bench/prefill.mjs'
import { runScaleScenarios } from './bench/scale.mjs'
import { runVerifyScenarios } from './bench/verify.mjs'
import { BIN, consumerAuth as cli, documentedExample, freePort, KEY, ownSchema, ROOT as root, ROUTE, rssMiB, serviceEnv as serviceEnvOf } from './support.mjs'

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '50' },
    'passcode-queue': { type: 'string' },
    'passcode-connections': { type: 'string', default: '8' },
    'memory-seconds': { type: 'string', default: '60' },
    'memory-warmup': { type: 'string', default: '20' },
    prefill: { type: 'string', default: '0' },
    scale: { type: 'string' },
    root: { type: 'string' },
  },
})
const rounds = Number(opts.rounds ?? (opts.quick ? 1 : 5))
const duration = Number(opts.duration ?? (opts.quick ? 1 : 5))
const warmup = opts.quick ? 1 : 3
const connections = Number(opts.connections)
// The pass-code scenario measures scrypt verifications, and two things kept it from it. The service's pass-code queue
// (PASSCODE_QUEUE_LIMIT) must hold every connection's attempt: its default (4 per running verification, 4 on this
// machine) is smaller than the bench's 50 connections, and the scenario measured the queue shedding 503s instead
// (shedding is tested: test/security/passcode-queue.test.ts); so it holds --connections here. And a request waits for
// the verifications queued before it: at 50 connections, 50 scrypts of ~0.1 s on the one slot of a 2-core machine,
// 5 to 13 s, longer than a round, so that a round saw no answer at all, and a request autocannon gave up (10 s) left
// its verification in the queue (a client that leaves keeps its place). So the scenario runs fewer connections.
const passcodeQueue = Number(opts['passcode-queue'] ?? connections)
const passcodeConnections = Number(opts['passcode-connections'])
for (const [flag, n] of [['--passcode-queue', passcodeQueue], ['--passcode-connections', passcodeConnections]]) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} takes a whole number, not ${n}`)
}
const scale = Number(opts.scale ?? 1)
if (!(scale > 0)) throw new Error(`--scale takes a positive number, not ${opts.scale}`)
const only = opts.only ? new Set(opts.only.split(',')) : undefined
const wanted = (name) => !only || only.has(name)
// --root: the build of consumer-auth whose service (and embeddable verifier) is measured; another checkout's, say, for
// a before/after in the same harness. Its database schema must be the one this checkout's import writes.
const libRoot = opts.root ?? root
const serviceBin = join(libRoot, 'bin/consumer-auth.js')
const databaseUrl = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : 'postgres://postgres@127.0.0.1:5432/test'

const AUTH = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`
const ISSUER = 'https://id.bench.example'
const PEER_TOKEN_PATH = '/token'

const peerVersion = () => {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules/oidc-provider/package.json'), 'utf8')).version
  } catch {
    return '?'
  }
}

// A scenario may run its own number of connections (the pass-code one does).
const load = (port, scenario, seconds) => loadOn(port, { ...scenario, path: scenario.path ?? ROUTE }, seconds, scenario.connections ?? connections)
const measure = (server, scenario, seconds) => measureOn(server, { ...scenario, path: scenario.path ?? ROUTE }, seconds, scenario.connections ?? connections)

// `real` is B, or P for the peer scenario (scenario.label 'P'); A and F always take ROUTE, whatever scenario.path is.
const runScenario = async (name, bare, real, scenario, floor, conforming) => {
  const L = scenario.label ?? 'B'
  const onRoute = { ...scenario, path: ROUTE, expect: '2xx' }
  console.log(`\n## ${name}  (${scenario.connections ?? connections} connections, ${rounds} rounds of ${duration} s, warm-up ${warmup} s each)`)
  await load(bare.port, onRoute, warmup)
  if (floor) await load(floor.port, onRoute, warmup)
  if (conforming) await load(conforming.port, onRoute, warmup)
  await load(real.port, scenario, warmup)
  const ratios = []
  const floorRatios = []
  const overFloor = []
  const conformingRatios = []
  const overConforming = []
  const realRps = []
  console.log(
    'round | A bare  req/s  p50  p99 cpu/req |' + (floor ? ' F floor req/s  p50  p99 cpu/req | F/A   |' : '') +
      (conforming ? ' F+ req/s      p50  p99 cpu/req | F+/F  |' : '') +
      (L === 'B' ? ' B service' : ` ${L} peer   `) + ` req/s p50  p99 cpu/req | ${L}/A   | ${L} non-` + scenario.expect,
  )
  for (let i = 1; i <= rounds; i++) {
    const a = await measure(bare, onRoute, duration)
    const f = floor ? await measure(floor, onRoute, duration) : undefined
    const c = conforming ? await measure(conforming, onRoute, duration) : undefined
    const b = await measure(real, scenario, duration)
    const ratio = b.rps / a.rps
    ratios.push(ratio)
    realRps.push(b.rps)
    if (f) floorRatios.push(f.rps / a.rps)
    if (f) overFloor.push(b.rps / f.rps)
    if (c && f) conformingRatios.push(c.rps / f.rps)
    if (c) overConforming.push(b.rps / c.rps)
    console.log(
      `${String(i).padStart(5)} | ${cell(a).padStart(29)} |` + (f ? ` ${cell(f).padStart(29)} | ${fmt(f.rps / a.rps, 3)} |` : '') +
        (c && f ? ` ${cell(c).padStart(29)} | ${fmt(c.rps / f.rps, 3)} |` : '') +
        ` ${cell(b).padStart(29)} | ${fmt(ratio, 3)} | ${b.unexpected}`,
    )
    if (b.unexpected > 0) console.log(`      ${L} statuses: ${JSON.stringify(b.statusCounts)}`)
    scenario.last = b
  }
  const m = median(ratios)
  const plus = conforming ? { conforming: median(conformingRatios), overConforming: median(overConforming) } : {}
  console.log(`median ${L}/A: ${fmt(m, 3)}   (${L} p99 last round: ${fmt(scenario.last.p99)} ms)` + (floor ? `   median F/A: ${fmt(median(floorRatios), 3)}   median ${L}/F: ${fmt(median(overFloor), 3)}` : '') +
    (conforming ? `   median F+/F: ${fmt(plus.conforming, 3)}   median ${L}/F+: ${fmt(plus.overConforming, 3)}` : ''))
  return { name, label: L, median: m, ratios, rps: median(realRps), p99: scenario.last.p99, ...(floor ? { floor: median(floorRatios), overFloor: median(overFloor) } : {}), ...plus }
}

// ------------------------------------------------------------------------------------------------ setup

const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-bench-'))
const children = []
const pgSchemas = []
/** A PostgreSQL schema of the bench's own (dropped at the end, with everything in it); its URL puts a client in it. */
const schemaOfOwn = async (prefix) => {
  const schema = await ownSchema(databaseUrl, `${prefix}_${process.pid}`)
  pgSchemas.push(schema)
  return schema
}
const cleanup = async () => {
  await Promise.all(children.map(stopChild))
  await Promise.all(pgSchemas.map((s) => s.drop()))
  rmSync(dir, { recursive: true, force: true })
}
process.on('SIGINT', () => cleanup().finally(() => process.exit(130)))

try {
  const idp = await generateKeyPair('RS256')
  const publicJwk = { ...(await exportJWK(idp.publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' }
  const document = {
    ...documentedExample,
    access_tokens: [
      ...documentedExample.access_tokens,
      { organisation: 'ps_dev', accounts_receivable_id: '261BF2B79198401D89A79C545F16CBEC', identifier: 'maria', pass_code: '4711', state: 'EFFECTIVE' },
    ],
    identity_providers: [{ issuer: ISSUER, audience: 'crm', jwks: { keys: [publicJwk] } }],
    identity_links: [{ issuer: ISSUER, subject: 'u-42', organisation: 'ps_dev', accounts_receivable_id: '261BF2B79198401D89A79C545F16CBEC' }],
  }
  const importFile = join(dir, 'import.json')
  writeFileSync(importFile, JSON.stringify(document))
  const secretsFile = join(dir, 'secrets.json')
  const sqliteUrl = `sqlite:${join(dir, 'bench.db')}`
  const common = { SECRETS_FILE: secretsFile, NODE_ENV: 'development' }
  // The secrets are generated by the first command that needs them, into the file named here.
  const { generateSecrets } = await import(join(root, 'dist/adapters/crypto/generate-secrets.js'))
  writeFileSync(secretsFile, JSON.stringify(await generateSecrets()), { mode: 0o600 })
  await cli(['import', importFile, '--db', sqliteUrl], common)
  // --prefill: the databases of B start with the data of a deployment that has run for a while (scripts/bench/prefill.mjs).
  const prefill = opts.prefill === 'deployment' ? sizesAt(scale) : { accessTokens: 0, keys: 0, auditRows: Number(opts.prefill) }
  if (!Number.isFinite(prefill.auditRows)) throw new Error(`--prefill takes a number of audit rows or 'deployment', not ${opts.prefill}`)
  const prefilled = prefill.accessTokens + prefill.keys + prefill.auditRows > 0
  const describe = (sizes) => `${sizes.accessTokens} access tokens, ${sizes.keys} keys, ${sizes.auditRows} audit rows`
  if (prefilled) console.log(`# prefilled SQLite with ${describe(prefill)} in ${fmt(prefillSqlite(join(dir, 'bench.db'), prefill), 1)} s`)

  const serviceEnv = (db, secrets = secretsFile) => ({ ...serviceEnvOf(secrets, db), PASSCODE_QUEUE_LIMIT: String(passcodeQueue) })
  const startService = async (db, secrets) => {
    const port = await freePort()
    const child = await startChild([serviceBin, 'serve', '--port', String(port), '--host', '127.0.0.1'], serviceEnv(db, secrets), port)
    children.push(child)
    return { port, child }
  }
  const real = await startService(sqliteUrl)

  const probe = await fetch(`http://127.0.0.1:${real.port}${ROUTE}`, {
    method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ access_token_identifier: { authentication_code: 'p_kestora1!' }, unit: '1' }),
  })
  const probeBody = await probe.text()
  if (probe.status !== 200) throw new Error(`the service did not issue a token: ${probe.status} ${probeBody}`)
  const barePort = await freePort()
  const bareChild = await startChild([join(root, 'scripts/bench/bare-koa.mjs')], { PORT: String(barePort), FIXED_BODY: probeBody }, barePort)
  children.push(bareChild)
  const bare = { port: barePort, child: bareChild }
  const floorPort = await freePort()
  const floorChild = await startChild([join(root, 'scripts/bench/floor-koa.mjs')], { PORT: String(floorPort) }, floorPort)
  children.push(floorChild)
  const floor = { port: floorPort, child: floorChild }
  const conformingPort = await freePort()
  const conformingChild = await startChild([join(root, 'scripts/bench/floor-koa.mjs')], { PORT: String(conformingPort), FLOOR_CONFORMING: '1' }, conformingPort)
  children.push(conformingChild)
  const conforming = { port: conformingPort, child: conformingChild }
  console.log(`# consumer-auth bench  ${new Date().toISOString()}  node ${process.version}  response ${probeBody.length} bytes`)

  const json = { 'content-type': 'application/json' }
  const identityJwt = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'bench-1' }).setIssuer(ISSUER).setAudience('crm')
    .setSubject('u-42').setIssuedAt().setExpirationTime('2h').sign(idp.privateKey)
  const scenarios = {
    code: { headers: { ...json, authorization: AUTH }, body: JSON.stringify({ access_token_identifier: { authentication_code: 'p_kestora1!' }, unit: '1' }), expect: '2xx' },
    // Each request waits for the verifications queued before its own: none is given up (and sent again) under a minute.
    passcode: {
      headers: { ...json, authorization: AUTH }, body: JSON.stringify({ access_token_identifier: { identifier: 'maria', pass_code: '4711' } }), expect: '2xx',
      connections: passcodeConnections, timeout: 60,
    },
    jwt: { headers: json, body: JSON.stringify({ jwt: identityJwt, organisation: 'ps_dev' }), expect: '2xx' },
    fail: { headers: { ...json, authorization: `Basic ${Buffer.from('00000000000000000000000000000000:').toString('base64')}` }, body: JSON.stringify({ access_token_identifier: { authentication_code: 'p_kestora1!' } }), expect: '4xx' },
  }
  const results = []
  if (wanted('code')) results.push({ ...(await runScenario('AuthenticationCode with key (SQLite)', bare, real, scenarios.code, floor, conforming)), scenario: 'code' })
  if (wanted('passcode')) results.push(await runScenario('IdentifierPassCode (SQLite, scrypt)', bare, real, scenarios.passcode))
  if (wanted('jwt')) results.push(await runScenario('IdentityJwt (SQLite, RS256 identity token)', bare, real, scenarios.jwt))
  if (wanted('fail')) results.push(await runScenario('Failure: unknown key (SQLite)', bare, real, scenarios.fail, floor, conforming))
  if (wanted('peer')) {
    // P: node-oidc-provider's client_credentials grant, HS256 JWT access tokens (scripts/bench/oidc-provider.mjs).
    // It is a dev dependency: when it cannot start (not installed, say), the scenario is skipped unless asked for alone.
    const name = 'Peer: node-oidc-provider client_credentials (JWT access token)'
    try {
      const clientId = 'bench-peer'
      const clientSecret = randomBytes(24).toString('base64url')
      const peerPort = await freePort()
      const peerChild = await startChild([join(root, 'scripts/bench/oidc-provider.mjs')], { PORT: String(peerPort), CLIENT_ID: clientId, CLIENT_SECRET: clientSecret, SCOPE: 'api:read' }, peerPort)
      children.push(peerChild)
      const peer = { port: peerPort, child: peerChild }
      const scenario = {
        label: 'P', path: PEER_TOKEN_PATH, expect: '2xx',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
        body: 'grant_type=client_credentials&scope=api%3Aread',
      }
      const answer = await fetch(`http://127.0.0.1:${peerPort}${PEER_TOKEN_PATH}`, { method: 'POST', headers: scenario.headers, body: scenario.body })
      const answerBody = await answer.text()
      const accessToken = answer.status === 200 ? JSON.parse(answerBody).access_token : undefined
      const header = typeof accessToken === 'string' && accessToken.split('.').length === 3 ? JSON.parse(Buffer.from(accessToken.split('.')[0], 'base64url')) : undefined
      if (header?.alg !== 'HS256') throw new Error(`the peer did not issue an HS256 JWT access token: ${answer.status} ${answerBody}`)
      console.log(`\n# peer: oidc-provider ${peerVersion()}, ${header.typ} ${header.alg} access token, response ${answerBody.length} bytes`)
      results.push(await runScenario(name, bare, peer, scenario))
    } catch (e) {
      if (only?.has('peer') && only.size === 1) throw e
      console.log(`\n## ${name}: skipped, ${e.message}`)
    }
  }
  results.push(...(await runVerifyScenarios({
    wanted, children, libRoot, authorization: AUTH, run: { rounds, duration, warmup, connections },
    hs256: { service: real, secretsFile },
    startEs256Service: async () => {
      const es256Secrets = join(dir, 'secrets-es256.json')
      writeFileSync(es256Secrets, JSON.stringify(await generateSecrets('ES256')), { mode: 0o600 })
      const es256Db = `sqlite:${join(dir, 'bench-es256.db')}`
      await cli(['import', importFile, '--db', es256Db], { ...common, SECRETS_FILE: es256Secrets })
      return { service: await startService(es256Db, es256Secrets), secretsFile: es256Secrets }
    },
  })))
  if (wanted('postgres')) {
    const pgSchema = await schemaOfOwn('ca_bench')
    await cli(['import', importFile, '--db', pgSchema.url], common)
    if (prefilled) console.log(`# prefilled PostgreSQL with ${describe(prefill)} in ${fmt(await prefillPostgres(pgSchema.url, prefill), 1)} s`)
    const pgService = await startService(pgSchema.url)
    // F_pg: the floor with its audit row committed to PostgreSQL, in a schema of its own.
    const floorSchema = await schemaOfOwn('ca_bench_floor')
    const floorPgPort = await freePort()
    const floorPgChild = await startChild([join(root, 'scripts/bench/floor-koa.mjs')], { PORT: String(floorPgPort), FLOOR_DATABASE_URL: floorSchema.url }, floorPgPort)
    children.push(floorPgChild)
    const floorPg = { port: floorPgPort, child: floorPgChild }
    const conformingSchema = await schemaOfOwn('ca_bench_floor_plus')
    const conformingPgPort = await freePort()
    const conformingPgChild = await startChild([join(root, 'scripts/bench/floor-koa.mjs')], { PORT: String(conformingPgPort), FLOOR_DATABASE_URL: conformingSchema.url, FLOOR_CONFORMING: '1' }, conformingPgPort)
    children.push(conformingPgChild)
    results.push(await runScenario('AuthenticationCode with key (PostgreSQL)', bare, pgService, scenarios.code, floorPg, { port: conformingPgPort, child: conformingPgChild }))
  }
  if (wanted('scale')) {
    results.push(...(await runScaleScenarios({
      scale: opts.scale === undefined && opts.quick ? 0.001 : scale, scenarios, measure, rounds, duration, warmup, connections,
      sqliteDatabase: async (name) => {
        const url = `sqlite:${join(dir, `${name}.db`)}`
        await cli(['import', importFile, '--db', url], common)
        return { url, prefill: (sizes) => prefillSqlite(join(dir, `${name}.db`), sizes) }
      },
      postgresDatabase: async (name) => {
        const schema = await schemaOfOwn(`ca_bench_${name}`)
        await cli(['import', importFile, '--db', schema.url], common)
        return { url: schema.url, prefill: (sizes) => prefillPostgres(schema.url, sizes) }
      },
      startService: (url) => startService(url),
    })))
  }
  if (wanted('memory')) {
    const seconds = opts.quick ? 5 : Number(opts['memory-seconds'])
    // V8 grows its old generation for a while under a new load before it settles (mark-compacts then bring the heap
    // back to the same live size each time): the warm-up lets it settle, so that the window shows growth, not sizing.
    const settle = opts.quick ? 2 : Number(opts['memory-warmup'])
    console.log(`\n## memory: RSS of the service over ${seconds} s of AuthenticationCode load, after ${settle} s of the same load`)
    const idle = rssMiB(real.child.pid)
    await load(real.port, scenarios.code, settle)
    const samples = []
    const sampler = setInterval(() => samples.push(rssMiB(real.child.pid)), 1000)
    samples.push(rssMiB(real.child.pid))
    const r = await load(real.port, scenarios.code, seconds)
    clearInterval(sampler)
    samples.push(rssMiB(real.child.pid))
    const first = samples[0]
    const last = samples[samples.length - 1]
    // Least-squares slope of the samples (1 s apart), in MiB per minute: ~0 when flat, whatever the GC saw-tooth.
    const n = samples.length
    const mx = (n - 1) / 2
    const my = samples.reduce((a, y) => a + y, 0) / n
    const slope = (samples.reduce((a, y, x) => a + (x - mx) * (y - my), 0) / samples.reduce((a, _, x) => a + (x - mx) ** 2, 0)) * 60
    const half = Math.floor(n / 2)
    console.log(`RSS MiB: idle ${fmt(idle, 1)}; over the window: start ${fmt(first, 1)}, min ${fmt(Math.min(...samples), 1)}, max ${fmt(Math.max(...samples), 1)}, end ${fmt(last, 1)}`)
    console.log(`end/start ${fmt(last / first, 3)}; max of the second half / max of the first half ${fmt(Math.max(...samples.slice(half)) / Math.max(...samples.slice(0, half)), 3)}; slope ${fmt(slope, 2)} MiB/min; ${fmt(r.requests.average)} req/s`)
    results.push({ name: 'memory end/start RSS', median: last / first, ratios: [], p99: NaN })
  }
  console.log(`\n## summary (median B/A)${opts.quick ? '  -- a --quick smoke run: 1 s rounds after 1 s of warm-up, not figures to quote' : ''}`)
  for (const r of results) {
    console.log(`${r.name.padEnd(48)} ${fmt(r.median, 3)}${r.label && r.label !== 'B' ? ` (${r.label.includes('/') ? r.label : `${r.label}/A`})` : ''}${Number.isFinite(r.p99) ? `   p99 ${fmt(r.p99)} ms` : ''}${r.floor === undefined ? '' : `   (floor F/A ${fmt(r.floor, 3)}, B/F ${fmt(r.overFloor, 3)}${r.conforming === undefined ? '' : `; F+/F ${fmt(r.conforming, 3)}, B/F+ ${fmt(r.overConforming, 3)}`})`}${r.summary ?? ''}`)
  }
  const codeResult = results.find((r) => r.scenario === 'code')
  const peerResult = results.find((r) => r.label === 'P')
  if (codeResult && peerResult) {
    // Median req/s of each over its rounds, and the same through A (median B/A over median P/A), which cancels some of
    // the drift of a shared machine between the two scenarios.
    console.log(
      `B/P, AuthenticationCode over the peer: ${fmt(codeResult.rps / peerResult.rps, 2)}x  (B ${fmt(codeResult.rps)} req/s, P ${fmt(peerResult.rps)} req/s;` +
        ` through A: ${fmt(codeResult.median / peerResult.median, 2)}x)`,
    )
  }
} finally {
  await cleanup()
}
