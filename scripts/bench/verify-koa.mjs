// The Koa apps of the verification scenarios of `npm run bench` (scripts/bench/verify.mjs), one per MODE, each
// answering GET /accounts_receivable/show, the kind of route a service that accepts session tokens has:
//   bare     A: the route answers a fixed envelope of the size of the session envelope (FIXED_BODY), nothing else
//   library  V: consumer-auth's createSessionVerifier middleware (HS256 from SECRETS_FILE, or ES256 through JWKS_URL),
//              answering the session it put on ctx.state
//   jose     J: plain jose: the Bearer token checked with jwtVerify (the active HS256 secret of SECRETS_FILE, or
//              createRemoteJWKSet(JWKS_URL)), answering its payload; 401 when it throws
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

if (mode === 'bare') {
  const body = process.env.FIXED_BODY ?? JSON.stringify({ data: { session: {} }, status: OK })
  router.get(PATH, (ctx) => {
    ctx.type = 'application/json'
    ctx.body = body
  })
} else if (mode === 'library') {
  const { createSessionVerifier } = await import(join(process.env.LIB_ROOT ?? ROOT, 'dist/adapters/http/index.js'))
  const sessions = await createSessionVerifier(alg === 'HS256' ? { secretsFile: process.env.SECRETS_FILE } : { jwksUrl: process.env.JWKS_URL })
  router.get(PATH, sessions.middleware(), (ctx) => {
    ctx.body = { data: { session: ctx.state.session }, status: OK }
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
      const { payload } = await jwtVerify(m ? m[1] : '', key, { algorithms: [alg] })
      ctx.body = { data: { session: payload }, status: OK }
    } catch {
      ctx.status = 401
      ctx.body = { data: null, status: { code: 'COM.CRM.EXCEPTION.AUTHENTICATION.INVALIDTOKENEXCEPTION', description: 'INVALIDTOKEN', message: 'The session token is not valid' } }
    }
  })
} else {
  throw new Error(`MODE must be bare, library or jose, not ${mode}`)
}
app.use(router.routes())

const server = createServer(app.callback())
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
