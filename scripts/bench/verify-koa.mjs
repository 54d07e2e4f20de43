// The Koa apps of the verification scenarios of `npm run bench` (scripts/bench/verify.mjs), one per MODE, each
// answering GET /accounts_receivable/show, the kind of route a service that accepts session tokens has, with the same
// fixed envelope (FIXED_BODY, the size of the session answer), so that V - A and J - A are the verification alone:
//   bare     A: the route answers the envelope, nothing else
//   library  V: consumer-auth's createSessionVerifier middleware (HS256 from SECRETS_FILE, or ES256 through JWKS_URL)
//              in front; the route answers once the middleware has put the session on ctx.state (500 if it has not)
//   jose     J: plain jose: the Bearer token checked with jwtVerify (the active HS256 secret of SECRETS_FILE, or
//              createRemoteJWKSet(JWKS_URL)), then the envelope; 401 when it throws
//   floor    F: the floor of a session route that answers like the service's: V's verification, then only what such
//              a route does per request besides, each the cheapest way: what floor-edge.mjs does around every route
//              (request id, no-store, the latency histogram, the request line), the release check against a Set in
//              memory, the answer serialised per request (the envelope of FIXED_BODY). No store, no error handling,
//              no Host check, no OPTIONS, no other route.
// (Until 2026-12-01 V and J answered the verified session instead, serialised per request: 2 to 3 µs of JSON that is
// the route's work, not the verifier's, and that A did not do.)
// LIB_ROOT names the consumer-auth build the library mode imports (default: this repository), so that an older build
// can be measured the same way.
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Koa from 'koa'
import { Router } from '@koa/router'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { ROOT } from '../support.mjs'

const port = Number(process.env.PORT ?? 0)
const mode = process.env.MODE ?? 'bare'
const alg = process.env.ALG ?? 'HS256'
const PATH = '/accounts_receivable/show'
const OK = { code: 'OK', description: '', message: '' }

const app = new Koa()
const router = new Router()
router.get('/health/live', (ctx) => {
  ctx.body = 'live'
})

const body = process.env.FIXED_BODY ?? JSON.stringify({ data: { session: {} }, status: OK })
const answer = (ctx) => {
  ctx.type = 'application/json'
  ctx.body = body
}

if (mode === 'bare') {
  router.get(PATH, answer)
} else if (mode === 'library') {
  const { createSessionVerifier } = await import(join(process.env.LIB_ROOT ?? ROOT, 'dist/adapters/http/index.js'))
  const sessions = await createSessionVerifier(alg === 'HS256' ? { secretsFile: process.env.SECRETS_FILE } : { jwksUrl: process.env.JWKS_URL })
  router.get(PATH, sessions.middleware(), (ctx) => {
    if (ctx.state.session?.sessionId === undefined) throw new Error('the middleware let a request through without a session')
    answer(ctx)
  })
} else if (mode === 'jose') {
  let key
  if (alg === 'HS256') {
    const secrets = JSON.parse(readFileSync(process.env.SECRETS_FILE, 'utf8'))
    key = Buffer.from(secrets.signingKeys.find((k) => k.kid === secrets.activeKid).secret, 'base64url')
  } else {
    key = createRemoteJWKSet(new URL(process.env.JWKS_URL))
  }
  router.get(PATH, async (ctx) => {
    const m = /^Bearer (\S+)$/.exec(ctx.get('authorization'))
    try {
      await jwtVerify(m ? m[1] : '', key, { algorithms: [alg] })
      answer(ctx)
    } catch {
      ctx.status = 401
      ctx.body = { data: null, status: { code: 'COM.CRM.EXCEPTION.AUTHENTICATION.INVALIDTOKENEXCEPTION', description: 'INVALIDTOKEN', message: 'The session token is not valid' } }
    }
  })
} else if (mode === 'floor') {
  const { createSessionVerifier } = await import(join(process.env.LIB_ROOT ?? ROOT, 'dist/adapters/http/index.js'))
  const { floorEdge } = await import('./floor-edge.mjs')
  const sessions = await createSessionVerifier(alg === 'HS256' ? { secretsFile: process.env.SECRETS_FILE } : { jwksUrl: process.env.JWKS_URL })
  const released = new Set()
  const envelope = JSON.parse(body)
  router.get(PATH, floorEdge(PATH), sessions.middleware(), (ctx) => {
    if (released.has(ctx.state.session.sessionId)) throw new Error('released')
    ctx.type = 'application/json'
    ctx.body = JSON.stringify(envelope)
  })
} else {
  throw new Error(`MODE must be bare, library, jose or floor, not ${mode}`)
}
app.use(router.routes())

const server = createServer(app.callback())
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
