// The verification scenarios of `npm run bench`: what it costs a service to accept session tokens, against a bare
// Koa route, in the same rounds.
//   verify        A bare Koa GET; V Koa + createSessionVerifier({ secretsFile }).middleware() (HS256); J Koa + jose
//                 jwtVerify with the same secret; F the floor of a session route (verify-koa.mjs, MODE floor); S the
//                 service's own GET .../session. Prints V/A, S/A, V/J, F/A and S/F.
//   verify-es256  the same through the JWKS of an ES256 service: V createSessionVerifier({ jwksUrl }), J jose
//                 createRemoteJWKSet + jwtVerify, S that service's session route.
// Every request carries the same token as `Authorization: Bearer`, as a client of such a service would.
import { join } from 'node:path'
import { cell, fmt, measure, median, load, startChild } from './harness.mjs'
import { freePort, ROOT } from '../support.mjs'

const APP_PATH = '/accounts_receivable/show'
const SESSION_PATH = '/crmapi/rest/v2/authentication/consumer_application_key/session'

/** Runs `rounds` rounds over `servers` (measured one after another in each), printing each round and the medians of `ratios`. */
const runRounds = async (name, servers, ratios, run) => {
  console.log(`\n## ${name}  (${run.connections} connections, ${run.rounds} rounds of ${run.duration} s, warm-up ${run.warmup} s each)`)
  for (const s of servers) await load(s.server.port, s.request, run.warmup, run.connections)
  console.log(`round | ${servers.map((s) => `${s.label} ${s.what}`.padEnd(29)).join(' | ')} | ${ratios.map(([n, d]) => `${n}/${d}`.padEnd(5)).join(' | ')}`)
  console.log(`      | ${servers.map(() => '   req/s  p50  p99 cpu/req'.padEnd(29)).join(' | ')} |`)
  const seen = Object.fromEntries(ratios.map(([n, d]) => [`${n}/${d}`, []]))
  const cpu = Object.fromEntries(servers.map((s) => [s.label, []]))
  const last = {}
  for (let i = 1; i <= run.rounds; i++) {
    const r = {}
    for (const s of servers) r[s.label] = await measure(s.server, s.request, run.duration, run.connections)
    const line = ratios.map(([n, d]) => {
      const ratio = r[n].rps / r[d].rps
      seen[`${n}/${d}`].push(ratio)
      return fmt(ratio, 3).padEnd(5)
    })
    console.log(`${String(i).padStart(5)} | ${servers.map((s) => cell(r[s.label]).padStart(29)).join(' | ')} | ${line.join(' | ')}`)
    for (const s of servers) {
      if (r[s.label].unexpected > 0) console.log(`      ${s.label} unexpected statuses: ${JSON.stringify(r[s.label].statusCounts)}`)
      last[s.label] = r[s.label]
      cpu[s.label].push(r[s.label].cpuUs)
    }
  }
  // Server CPU per request is steadier than req/s on a shared machine: the overhead of each over A, in microseconds.
  const cpuMedian = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, median(v)]))
  const [base] = servers
  console.log(`median cpu/req: ${servers.map((s) => `${s.label} ${fmt(cpuMedian[s.label])} us`).join(', ')};` +
    ` over ${base.label}: ${servers.slice(1).map((s) => `${s.label} +${fmt(cpuMedian[s.label] - cpuMedian[base.label])} us`).join(', ')}`)
  const medians = Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, median(v)]))
  console.log(`medians: ${Object.entries(medians).map(([k, v]) => `${k} ${fmt(v, 3)}`).join('   ')}   (p99 last round: ${servers.map((s) => `${s.label} ${fmt(last[s.label].p99)} ms`).join(', ')})`)
  return Object.entries(medians).map(([k, v]) => ({ name: `${name} ${k}`, median: v, p99: NaN }))
}

/** A token from the service at `port` (the documented example's authentication code). */
const issue = async (port, authorization) => {
  const r = await fetch(`http://127.0.0.1:${port}/crmapi/rest/v2/authentication/consumer_application_key/token`, {
    method: 'POST', headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ access_token_identifier: { authentication_code: 'p_kestora1!' }, unit: '1' }),
  })
  const body = await r.json()
  if (r.status !== 200) throw new Error(`no token: ${r.status} ${JSON.stringify(body)}`)
  return body.data.token
}

const koa = async (ctx, env) => {
  const port = await freePort()
  const child = await startChild([join(ROOT, 'scripts/bench/verify-koa.mjs')], { PORT: String(port), LIB_ROOT: ctx.libRoot, ...env }, port)
  ctx.children.push(child)
  return { port, child }
}

/**
 * One scenario: `service` is a running consumer-auth (HS256 or ES256 ring), `secretsFile` its secrets. The fixed body
 * that A, V and J answer is the service's own session answer for the token, so that A, V, J and S answer the same bytes.
 */
const scenario = async (ctx, name, alg, service, secretsFile) => {
  const token = await issue(service.port, ctx.authorization)
  const request = (path) => ({ method: 'GET', path, headers: { authorization: `Bearer ${token}` }, expect: '2xx' })
  const probe = await fetch(`http://127.0.0.1:${service.port}${SESSION_PATH}`, { headers: { authorization: `Bearer ${token}` } })
  const sessionBody = await probe.text()
  if (probe.status !== 200) throw new Error(`the session route refused the token: ${probe.status} ${sessionBody}`)
  const keys = alg === 'HS256' ? { SECRETS_FILE: secretsFile } : { JWKS_URL: `http://127.0.0.1:${service.port}/.well-known/jwks.json` }
  const servers = [
    { label: 'A', what: 'bare Koa', server: await koa(ctx, { MODE: 'bare', FIXED_BODY: sessionBody }), request: request(APP_PATH) },
    { label: 'V', what: 'createSessionVerifier', server: await koa(ctx, { MODE: 'library', ALG: alg, FIXED_BODY: sessionBody, ...keys }), request: request(APP_PATH) },
    { label: 'J', what: 'jose jwtVerify', server: await koa(ctx, { MODE: 'jose', ALG: alg, FIXED_BODY: sessionBody, ...keys }), request: request(APP_PATH) },
    { label: 'F', what: 'session route floor', server: await koa(ctx, { MODE: 'floor', ALG: alg, FIXED_BODY: sessionBody, ...keys }), request: request(APP_PATH) },
    { label: 'S', what: 'service session route', server: service, request: request(SESSION_PATH) },
  ]
  for (const s of servers) {
    const r = await fetch(`http://127.0.0.1:${s.server.port}${s.request.path}`, { headers: s.request.headers })
    if (r.status !== 200) throw new Error(`${s.label} refused the token: ${r.status} ${await r.text()}`)
  }
  return runRounds(name, servers, [['V', 'A'], ['S', 'A'], ['V', 'J'], ['F', 'A'], ['S', 'F']], ctx.run)
}

/**
 * ctx: { wanted, run: { rounds, duration, warmup, connections }, children, authorization, libRoot,
 *        hs256: { service, secretsFile }, startEs256Service: async () => ({ service, secretsFile }) }
 */
export const runVerifyScenarios = async (ctx) => {
  const results = []
  if (ctx.wanted('verify')) results.push(...(await scenario(ctx, 'Verify HS256 (secrets file)', 'HS256', ctx.hs256.service, ctx.hs256.secretsFile)))
  if (ctx.wanted('verify-es256')) {
    const es = await ctx.startEs256Service()
    results.push(...(await scenario(ctx, 'Verify ES256 (JWKS)', 'ES256', es.service, es.secretsFile)))
  }
  return results
}

